package pool_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// exampleVault creates a throwaway vault holding two Anthropic API keys.
func exampleVault(ctx context.Context) (v *vault.Vault, cleanup func()) {
	dir, err := os.MkdirTemp("", "pool-example")
	if err != nil {
		log.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	v, err = vault.Create(ctx, filepath.Join(dir, "vault"), []age.Recipient{id.Recipient()})
	if err != nil {
		log.Fatal(err)
	}
	for _, label := range []string{"work@example.com", "home@example.com"} {
		r := &records.Record{Provider: "anthropic", Namespace: records.DefaultNamespace, Label: label,
			Kind: records.KindAPI, API: &records.APIKey{Key: "sk-ant-example"}}
		if _, err := v.Put(ctx, r); err != nil {
			log.Fatal(err)
		}
	}
	return v, func() { v.Close(); os.RemoveAll(dir) }
}

// A request is rate limited on the first account; its retry goes to the
// next one.
func Example() {
	ctx := context.Background()
	v, cleanup := exampleVault(ctx)
	defer cleanup()

	p, err := pool.Open(ctx, v, pool.Key{Provider: "anthropic", Namespace: records.DefaultNamespace})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	hint := pool.Hint{Session: "conversation-1", Model: "claude-sonnet-4-5"}
	lease, err := p.Acquire(ctx, hint)
	if err != nil {
		log.Fatal(err)
	}
	rec, err := lease.Record(ctx)
	if err != nil {
		log.Fatal(err)
	}
	_ = rec.AccessToken() // authorize the request with it, and send it
	fmt.Println("sent with", lease.ID.Label)

	// The provider answered 429 with "Retry-After: 30".
	until := time.Now().Add(30 * time.Second)
	p.Report(lease, pool.Outcome{Kind: pool.RateLimited, Until: until, Status: 429, Reason: "rate_limit_error"})

	lease, err = p.Acquire(ctx, hint)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("retried with", lease.ID.Label)
	p.Report(lease, pool.Outcome{Kind: pool.Success, Status: 200})
	// Output:
	// sent with work@example.com
	// retried with home@example.com
}

// When no account is ready, the error says when one will be.
func ExamplePool_Acquire() {
	ctx := context.Background()
	v, cleanup := exampleVault(ctx)
	defer cleanup()
	p, err := pool.Open(ctx, v, pool.Key{Provider: "anthropic", Namespace: records.DefaultNamespace})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	for range 2 {
		lease, err := p.Acquire(ctx, pool.Hint{})
		if err != nil {
			log.Fatal(err)
		}
		p.Report(lease, pool.Outcome{Kind: pool.QuotaExhausted, Until: time.Now().Add(5 * time.Hour)})
	}
	_, err = p.Acquire(ctx, pool.Hint{})
	var ex *pool.ExhaustedError
	if errors.As(err, &ex) {
		wait := time.Until(ex.Soonest).Round(time.Hour)
		fmt.Printf("%d accounts cooling; retry in about %v\n", ex.Reasons[pool.Cooling], wait)
	}
	// Output:
	// 2 accounts cooling; retry in about 5h0m0s
}

// An operator's view of the pool, and a change of order.
func ExamplePool_Accounts() {
	ctx := context.Background()
	v, cleanup := exampleVault(ctx)
	defer cleanup()
	p, err := pool.Open(ctx, v, pool.Key{Provider: "anthropic", Namespace: records.DefaultNamespace})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	work := records.ID{Provider: "anthropic", Namespace: records.DefaultNamespace, Label: "work@example.com"}
	if err := p.Move(ctx, work, 0); err != nil {
		log.Fatal(err)
	}
	if err := p.Disable(ctx, work, "quota reserved for the nightly job"); err != nil {
		log.Fatal(err)
	}
	accounts, err := p.Accounts(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range accounts {
		fmt.Printf("%d %s: %v", a.Position, a.ID.Label, a.Availability)
		if a.Disabled {
			fmt.Printf(" (%s)", a.DisabledReason)
		}
		fmt.Println()
	}
	// Output:
	// 0 work@example.com: disabled (quota reserved for the nightly job)
	// 1 home@example.com: ready
}
