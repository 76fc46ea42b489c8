// Package vaulttest holds what the tests of several packages need around
// a vault: a clock that moves only when told to, a read of every record,
// and a pool driven line by line from another process.
package vaulttest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// Clock is a clock that moves only when told to. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// AllRecords reads every record of v, in List order.
func AllRecords(t testing.TB, v *vault.Vault) []*records.Record {
	t.Helper()
	ctx := context.Background()
	entries, err := v.List(ctx, vault.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*records.Record
	for _, e := range entries {
		r, err := v.Get(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// DrivePool runs a pool for key on v, driven by commands read line by line
// from in: "acquire" (prints the label, or "error: …"), "ratelimit"
// (reports a 429 for an hour on the last lease, prints "ok"), "quit"
// (closes the pool, prints "bye"). The pool never relists on its own: only
// the shared state may tell it about another process's cooldowns.
func DrivePool(ctx context.Context, v *vault.Vault, key pool.Key, in io.Reader, out io.Writer) error {
	p, err := pool.Open(ctx, v, key, pool.WithRelistInterval(0))
	if err != nil {
		return err
	}
	defer p.Close()
	var lease *pool.Lease
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch cmd := sc.Text(); cmd {
		case "acquire":
			l, err := p.Acquire(ctx, pool.Hint{})
			if err != nil {
				fmt.Fprintln(out, "error:", err)
				continue
			}
			lease = l
			fmt.Fprintln(out, l.ID.Label)
		case "ratelimit":
			if err := p.Report(lease, pool.Outcome{Kind: pool.RateLimited, Until: time.Now().Add(time.Hour)}); err != nil {
				return err
			}
			fmt.Fprintln(out, "ok")
		case "quit":
			err := p.Close()
			fmt.Fprintln(out, "bye")
			return err
		default:
			return fmt.Errorf("unknown command %q", cmd)
		}
	}
	return sc.Err()
}
