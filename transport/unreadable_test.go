package transport

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// A record that cannot be read never blocks the accounts after it: the
// account is skipped, marked unreadable with its error class, reported to
// the observer, and the upstream never sees it.
func TestUnreadableRecordSkipped(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(t *testing.T, file string)
		class string
	}{
		{"tampered", func(t *testing.T, file string) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 1
			if err := os.WriteFile(file, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "tampered"},
		{"permissions", func(t *testing.T, file string) {
			if err := os.Chmod(file, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "permissions"},
		{"missing", func(t *testing.T, file string) {
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
		}, "missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			up := newUpstream(t)
			up.set("tok1", ok)
			up.set("tok2", ok)
			id, _ := age.GenerateX25519Identity()
			dir := filepath.Join(t.TempDir(), "vault")
			v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
			if err != nil {
				t.Fatal(err)
			}
			put := func(label, tok string) {
				r := &records.Record{Provider: "fake", Namespace: "default", Label: label, Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(tok)}}
				if _, err := v.Put(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			put("acct1", "tok1")
			first, _ := filepath.Glob(filepath.Join(dir, "records", "*.avr"))
			put("acct2", "tok2")
			v.Close()
			if len(first) != 1 {
				t.Fatalf("record files %v", first)
			}
			c.spoil(t, first[0])

			v, err = vault.Open(ctx, dir, []age.Identity{id})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			p, err := pool.Open(ctx, v, pool.Key{Provider: "fake", Namespace: "default"})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			a, _ := bearer.New("fake")
			var mu sync.Mutex
			var events []Event
			obs := func(e Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			}
			hc := &http.Client{Transport: New(p, a, WithOrigins(up.URL), WithObserver(obs))}
			for i := 0; i < 3; i++ {
				resp, err := hc.Post(up.URL+"/v1/chat/completions", "application/json", nil)
				if err != nil {
					t.Fatal(err)
				}
				readAll(t, resp)
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: status %d", i+1, resp.StatusCode)
				}
			}
			if got := up.tokens(); !slices.Equal(got, []string{"tok2", "tok2", "tok2"}) {
				t.Fatalf("upstream saw %v, want the second account only", got)
			}
			acct1 := records.ID{Provider: "fake", Namespace: "default", Label: "acct1"}
			var marked []Event
			for _, e := range events {
				if e.Kind == EventUnreadable {
					marked = append(marked, e)
				}
			}
			if len(marked) != 1 || marked[0].Account != acct1 || marked[0].Reason != c.class {
				t.Fatalf("unreadable events %+v, want one for %s (%s)", marked, acct1, c.class)
			}
			// Marked in the shared state: a pool opened afresh sees it.
			p2, err := pool.Open(ctx, v, pool.Key{Provider: "fake", Namespace: "default"})
			if err != nil {
				t.Fatal(err)
			}
			defer p2.Close()
			acc, err := p2.Account(ctx, acct1)
			if err != nil {
				t.Fatal(err)
			}
			if acc.Availability != pool.Unreadable || acc.Unreadable != c.class {
				t.Fatalf("account 1: %v %q, want unreadable %q", acc.Availability, acc.Unreadable, c.class)
			}
		})
	}
}
