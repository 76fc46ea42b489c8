// Command failover shows authvault's same-request failover with no set-up
// and no network. It creates a vault in a temporary directory with a fresh
// key, adds three accounts for a fake OpenAI-compatible provider on
// 127.0.0.1 — account 1 answers 429 with Retry-After, account 2's access
// token has expired — and sends a series of requests through an
// authvault HTTP client. Every rotation, cooldown and refresh is logged as
// it happens; the accounts table is printed at the end.
//
//	go run ./examples/failover
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "authvault-failover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	provider := newFakeProvider()
	defer provider.Close()

	// A vault with a fresh post-quantum key; in real use `vaultkey init`
	// creates it and keeps the key in the OS keyring.
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return err
	}
	v, err := vault.Create(ctx, filepath.Join(tmp, "vault"), []age.Recipient{id.Recipient()})
	if err != nil {
		return err
	}
	defer v.Close()

	now := time.Now()
	accounts := []*records.Record{
		{Label: "alice@example.com", Kind: records.KindAPI, API: &records.APIKey{Key: "sk-alice"}},
		{Label: "bob@example.com", Kind: records.KindOAuth, OAuth: &records.OAuth{
			Access: "access-bob-expired", Refresh: "refresh-bob", Expiry: now.Add(-time.Minute),
			ClientID: "failover-example", TokenURL: provider.URL + "/oauth/token"}},
		{Label: "carol@example.com", Kind: records.KindAPI, API: &records.APIKey{Key: "sk-carol"}},
	}
	err = v.Batch(ctx, func(b *vault.Batch) error {
		for _, r := range accounts {
			r.Provider, r.Namespace = "fakeai", records.DefaultNamespace
			if err := b.Put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	provider.setLimited("sk-alice", 30)
	provider.valid["sk-carol"] = true
	provider.refresh["refresh-bob"] = true

	// The provider's adapter: a generic bearer-token provider. The named
	// providers (anthropic, openai, google, ...) register their own.
	adapter, err := bearer.New("fakeai")
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	// Credentials go only to origins bound to their account: the emulated
	// provider on loopback is bound here. The transport's events go to the
	// logger; credentials are never logged.
	c, err := authvault.Open(ctx, "fakeai", authvault.WithVault(v), authvault.WithAdapter(adapter),
		authvault.WithTransportOptions(transport.WithObserver(transport.SlogObserver(logger))),
		authvault.WithOrigins(provider.URL))
	if err != nil {
		return err
	}
	defer c.Close()

	send := func(n int) error {
		body := `{"model":"fake-1","messages":[{"role":"user","content":"hi"}]}`
		resp, err := c.HTTP.Post(provider.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(out, "request %d: HTTP %d %s\n\n", n, resp.StatusCode, summary(b))
		return nil
	}

	fmt.Fprintln(out, "-- alice is rate limited; bob's token has expired: the first request refreshes bob's token and succeeds on bob")
	if err := send(1); err != nil {
		return err
	}
	fmt.Fprintln(out, "-- fill-first: the next requests stay on bob while alice cools down")
	for i := 2; i <= 3; i++ {
		if err := send(i); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "-- bob hits his limit too: the same request moves on to carol")
	provider.setLimited("access-refreshed-1", 60)
	if err := send(4); err != nil {
		return err
	}
	fmt.Fprintf(out, "the provider received %d requests for 4 answered calls; no call waited or failed\n\n", provider.Requests)

	if err := c.Pool.Flush(ctx); err != nil {
		return err
	}
	accts, err := c.Pool.Accounts(ctx)
	if err != nil {
		return err
	}
	entries, err := v.List(ctx, vault.Filter{Provider: "fakeai"})
	if err != nil {
		return err
	}
	kinds := map[records.ID]records.Kind{}
	for _, e := range entries {
		kinds[e.ID] = e.Kind
	}
	fmt.Fprintln(out, "accounts, as vaultkey accounts list shows them:")
	return writeTable(out, accts, kinds)
}

// writeTable prints the pool's accounts: their state, successes and 429s.
func writeTable(out io.Writer, accts []pool.Account, kinds map[records.ID]records.Kind) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tLABEL\tKIND\tSTATE\tSUCCESSES\t429S")
	for _, a := range accts {
		state := a.Availability.String()
		if a.Availability == pool.Cooling {
			state = "cooling until " + a.Until.Format("15:04:05")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\n", a.Position+1, a.ID.Label, kinds[a.ID], state,
			a.Stats.Successes, a.Stats.RateLimited+a.Stats.QuotaExhausted)
	}
	return tw.Flush()
}

func summary(b []byte) string {
	s := string(b)
	if i := strings.Index(s, `"content":"`); i >= 0 {
		s = s[i+len(`"content":"`):]
		if j := strings.IndexByte(s, '"'); j >= 0 {
			return "assistant says " + s[:j]
		}
	}
	return s
}
