package pool_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
	"github.com/google/go-cmp/cmp"
)

// TestLeaseBlame: 64 requests are in flight on account A when A's first
// 429 makes B current. The other 429s that come back on A's leases, and
// the successes on B's, must land on the account that sent each request.
func TestLeaseBlame(t *testing.T) {
	const n = 64
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	a, b := ids[0], ids[1]
	m.put(ids...)
	p := open(t, m, clk)

	old := make([]*pool.Lease, n)
	var wg sync.WaitGroup
	for i := range old {
		wg.Go(func() { old[i] = acquire(t, p, pool.Hint{}) })
	}
	wg.Wait()
	for i, l := range old {
		if l.ID != a {
			t.Fatalf("lease %d on %s, want %s", i, l.ID, a)
		}
	}
	report(t, p, old[0], pool.Outcome{Kind: pool.RateLimited, Until: clk.Now().Add(time.Minute)})

	fresh := make([]*pool.Lease, n)
	for i := range n {
		wg.Go(func() {
			if i > 0 {
				if err := p.Report(old[i], rateLimited()); err != nil {
					t.Error(err)
				}
			}
			l, err := p.Acquire(context.Background(), pool.Hint{})
			if err != nil {
				t.Error(err)
				return
			}
			fresh[i] = l
			if err := p.Report(l, success()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, l := range fresh {
		if l != nil && l.ID != b {
			t.Errorf("fresh lease %d on %s, want %s", i, l.ID, b)
		}
	}
	accA, accB := accountOf(t, p, a), accountOf(t, p, b)
	wantA := []pool.Cooldown{{Kind: pool.RateLimited, Until: clk.Now().Add(time.Minute), Step: 1}}
	if diff := cmp.Diff(wantA, accA.Cooldowns); diff != "" {
		t.Errorf("A's cooldowns (-want +got):\n%s", diff)
	}
	if accA.Stats.RateLimited != n || accA.Stats.Successes != 0 {
		t.Errorf("A: %d rate limited, %d successes; want %d, 0", accA.Stats.RateLimited, accA.Stats.Successes, n)
	}
	if accB.Availability != pool.Ready || len(accB.Cooldowns) != 0 || accB.Stats.RateLimited != 0 || accB.Stats.Successes != n {
		t.Errorf("B: %+v, want ready with %d successes and no rate limit", accB, n)
	}
}

// TestLeaseBlameUnderLoad: 64 goroutines hammer 8 accounts; every request
// on the first four is rate limited, every other succeeds. However the
// reports interleave, no 429 lands on a good account.
func TestLeaseBlameUnderLoad(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(8)
	m.put(ids...)
	bad := map[records.ID]bool{ids[0]: true, ids[1]: true, ids[2]: true, ids[3]: true}
	p := open(t, m, clk, pool.WithStrategy(pool.RoundRobin))
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 20 {
				l, err := p.Acquire(context.Background(), pool.Hint{})
				if err != nil {
					t.Error(err)
					return
				}
				o := success()
				if bad[l.ID] {
					o = pool.Outcome{Kind: pool.RateLimited, Until: clk.Now().Add(time.Hour)}
				}
				if err := p.Report(l, o); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	accs, err := p.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, acc := range accs {
		switch {
		case bad[acc.ID] && acc.Availability != pool.Cooling:
			t.Errorf("%s: %v, want cooling", acc.ID, acc.Availability)
		case !bad[acc.ID] && (acc.Availability != pool.Ready || acc.Stats.RateLimited != 0):
			t.Errorf("%s: %v with %d rate limits, want ready with none", acc.ID, acc.Availability, acc.Stats.RateLimited)
		}
	}
}

func TestReportForeignLease(t *testing.T) {
	m, clk := newMemVault(), newClock()
	m.put(accts(1)...)
	p1, p2 := open(t, m, clk), open(t, m, clk)
	l := acquire(t, p1, pool.Hint{})
	if err := p2.Report(l, success()); !errors.Is(err, pool.ErrForeignLease) {
		t.Errorf("Report with another pool's lease: %v, want ErrForeignLease", err)
	}
	if err := p1.Report(nil, success()); !errors.Is(err, pool.ErrForeignLease) {
		t.Errorf("Report(nil): %v, want ErrForeignLease", err)
	}
}

func TestLeaseRecord(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	p := open(t, m, clk, pool.WithRelistInterval(0))
	l := acquire(t, p, pool.Hint{Model: "m", Session: "s"})
	if l.ID != ids[0] || !l.Acquired.Equal(clk.Now()) || l.Model != "m" || l.Session != "s" || l.Window != 0 {
		t.Errorf("lease %+v", l)
	}
	r, err := l.Record(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID() != ids[0] || r.AccessToken().Reveal() != "key-"+ids[0].Label {
		t.Errorf("record %s with another key", r.ID())
	}
	// The record is deleted while leased: Record says so, and the pool
	// drops the account on its next Acquire.
	m.remove(ids[0])
	if _, err := l.Record(ctx); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Record after delete: %v, want ErrNotFound", err)
	}
	if got := label(t, p, pool.Hint{}); got != ids[1].Label {
		t.Errorf("after delete got %s, want %s", got, ids[1].Label)
	}
	// A report on the deleted account's lease is ignored.
	if err := p.Report(l, rateLimited()); err != nil {
		t.Errorf("Report on a removed account: %v", err)
	}
	accs, err := p.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(accs) != 1 || accs[0].ID != ids[1] || accs[0].Position != 0 {
		t.Errorf("accounts %+v, want only %s at 0", accs, ids[1])
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	ids := accts(1)
	m.put(ids...)
	p := open(t, m, clk)
	l := acquire(t, p, pool.Hint{})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	checks := map[string]error{
		"Acquire":  func() error { _, err := p.Acquire(ctx, pool.Hint{}); return err }(),
		"Report":   p.Report(l, success()),
		"Accounts": func() error { _, err := p.Accounts(ctx); return err }(),
		"Disable":  p.Disable(ctx, ids[0], ""),
		"Refresh":  p.Refresh(ctx),
	}
	for name, err := range checks {
		if !errors.Is(err, pool.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	q := open(t, m, clk)
	if _, err := q.Acquire(cctx, pool.Hint{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a canceled context: %v", err)
	}
}
