package transport

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/vault"
)

// countingStore counts the pool state writes made through it.
type countingStore struct {
	*vault.Vault
	writes atomic.Int64
}

func (c *countingStore) UpdateState(ctx context.Context, name string, fn func([]byte) ([]byte, error)) (vault.StateStamp, error) {
	c.writes.Add(1)
	return c.Vault.UpdateState(ctx, name, fn)
}

// A request that rotates past a rate-limited account writes the shared
// state exactly once, before it returns; a request that changes no
// account's availability writes nothing while the counters are not due.
func TestOneStateWritePerRotation(t *testing.T) {
	e := newEnv(t, envOpt{accounts: 2})
	e.up.set("tok1", rateLimited(1))
	e.up.set("tok2", ok)
	cs := &countingStore{Vault: e.v}
	p, err := pool.Open(context.Background(), cs, e.pool.Key(), pool.WithClock(e.clock.Now), pool.WithWriteBehind(), pool.WithRelistInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, _ := bearer.New("fake")
	c := &http.Client{Transport: New(p, a, WithOrigins(e.up.URL))}
	for _, tc := range []struct {
		name   string
		rotate bool
		want   int64
	}{{"rotating", true, 1}, {"on the first ready account", false, 0}} {
		const n = 20
		cs.writes.Store(0)
		for range n {
			if tc.rotate {
				e.clock.Advance(2 * time.Second) // the 1 s cooldown is over
			}
			req, _ := http.NewRequest("POST", e.up.URL+"/v1/chat/completions", strings.NewReader(`{}`))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d", tc.name, resp.StatusCode)
			}
		}
		if got := cs.writes.Load(); got != tc.want*n {
			t.Errorf("%s: %d state writes for %d requests, want %d each", tc.name, got, n, tc.want)
		}
	}
	// Once the counters are due, the next request starts their write
	// and does not wait for it; Close waits, and has nothing left.
	cs.writes.Store(0)
	e.clock.Advance(time.Minute)
	req, _ := http.NewRequest("POST", e.up.URL+"/v1/chat/completions", strings.NewReader(`{}`))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := cs.writes.Load(); got != 1 {
		t.Errorf("counters due: %d state writes, want 1", got)
	}
	acct, err := e.pool.Account(context.Background(), e.ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if acct.Stats.Requests != 41 {
		t.Errorf("another pool reads %d requests of the second account, want 41", acct.Stats.Requests)
	}
}
