package pool_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/google/go-cmp/cmp"
)

// coolAccounts rate-limits the given accounts for an hour through a pool
// of its own, as another process would, leaving the order as it was.
func coolAccounts(t *testing.T, m *memVault, clk *fakeClock, ids []records.ID, cool ...int) {
	t.Helper()
	ctx := context.Background()
	p := open(t, m, clk)
	for _, i := range cool {
		if err := p.Move(ctx, ids[i], 0); err != nil {
			t.Fatal(err)
		}
		l := acquire(t, p, pool.Hint{})
		if l.ID != ids[i] {
			t.Fatalf("setup: acquired %s, want %s", l.ID, ids[i])
		}
		report(t, p, l, pool.Outcome{Kind: pool.RateLimited, Until: clk.Now().Add(time.Hour)})
	}
	for i, id := range ids {
		if err := p.Move(ctx, id, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStrategies(t *testing.T) {
	tests := []struct {
		name     string
		strategy pool.Strategy
		cool     []int
		disable  []int
		want     []int
	}{
		{"fill-first stays on the first", pool.FillFirst, nil, nil, []int{0, 0, 0, 0}},
		{"fill-first skips cooling", pool.FillFirst, []int{0, 1}, nil, []int{2, 2, 2}},
		{"fill-first skips disabled", pool.FillFirst, nil, []int{0, 2}, []int{1, 1}},
		{"round-robin cycles in order", pool.RoundRobin, nil, nil, []int{0, 1, 2, 3, 0, 1}},
		{"round-robin skips cooling", pool.RoundRobin, []int{1}, nil, []int{0, 2, 3, 0, 2}},
		{"round-robin skips disabled", pool.RoundRobin, nil, []int{3}, []int{0, 1, 2, 0}},
		{"least-recently-used cycles", pool.LeastRecentlyUsed, nil, nil, []int{0, 1, 2, 3, 0, 1}},
		{"least-recently-used skips cooling", pool.LeastRecentlyUsed, []int{0}, nil, []int{1, 2, 3, 1, 2}},
		{"least-recently-used skips disabled", pool.LeastRecentlyUsed, nil, []int{1}, []int{0, 2, 3, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(4)
			m.put(ids...)
			coolAccounts(t, m, clk, ids, tt.cool...)
			p := open(t, m, clk, pool.WithStrategy(tt.strategy))
			for _, i := range tt.disable {
				if err := p.Disable(context.Background(), ids[i], "test"); err != nil {
					t.Fatal(err)
				}
			}
			var got []int
			for range tt.want {
				l := acquire(t, p, pool.Hint{})
				got = append(got, indexOf(ids, l.ID))
				report(t, p, l, success())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("accounts handed out (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLeastRecentlyUsedFollowsUse checks that an account used through a
// session moves to the back of the LRU order.
func TestLeastRecentlyUsedFollowsUse(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(3)
	m.put(ids...)
	p := open(t, m, clk, pool.WithStrategy(pool.LeastRecentlyUsed))
	// 0 is least recently used; the session binds to it.
	if got := label(t, p, pool.Hint{Session: "s"}); got != ids[0].Label {
		t.Fatalf("first = %s", got)
	}
	clk.Advance(time.Second)
	if got := label(t, p, pool.Hint{Session: "s"}); got != ids[0].Label {
		t.Fatalf("session moved to %s", got)
	}
	var got []string
	for range 3 {
		clk.Advance(time.Second)
		got = append(got, label(t, p, pool.Hint{}))
	}
	want := []string{ids[1].Label, ids[2].Label, ids[0].Label}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LRU order (-want +got):\n%s", diff)
	}
}

func indexOf(ids []records.ID, id records.ID) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

func TestStrategyNames(t *testing.T) {
	tests := []struct {
		s    pool.Strategy
		want string
	}{
		{pool.FillFirst, "fill-first"},
		{pool.RoundRobin, "round-robin"},
		{pool.LeastRecentlyUsed, "least-recently-used"},
		{pool.Strategy(7), "Strategy(7)"},
		{pool.Strategy(-1), "Strategy(-1)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Strategy(%d).String() = %q, want %q", int(tt.s), got, tt.want)
		}
	}
}

func TestSessionAffinity(t *testing.T) {
	type step struct {
		advance time.Duration
		session string
		cool    bool // report a rate limit (1 min) instead of a success
		want    int
	}
	tests := []struct {
		name  string
		ttl   time.Duration
		steps []step
	}{
		{"session stays while others rotate", time.Hour, []step{
			{session: "s1", want: 0},
			{want: 1},
			{session: "s1", want: 0},
			{want: 2},
			{session: "s1", want: 0},
		}},
		{"two sessions keep their accounts", time.Hour, []step{
			{session: "s1", want: 0},
			{session: "s2", want: 1},
			{session: "s1", want: 0},
			{session: "s2", want: 1},
		}},
		{"session leaves a cooling account and stays on the new one", time.Hour, []step{
			{session: "s1", want: 0, cool: true},
			{session: "s1", want: 1},
			{advance: 2 * time.Minute, session: "s1", want: 1},
		}},
		{"binding expires after the TTL without use", time.Hour, []step{
			{session: "s1", want: 0},
			{advance: 59 * time.Minute, session: "s1", want: 0},
			{advance: 59 * time.Minute, session: "s1", want: 0},
			{advance: time.Hour, session: "s1", want: 1},
		}},
		{"affinity off", 0, []step{
			{session: "s1", want: 0},
			{session: "s1", want: 1},
			{session: "s1", want: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(3)
			m.put(ids...)
			p := open(t, m, clk, pool.WithStrategy(pool.RoundRobin), pool.WithAffinityTTL(tt.ttl))
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				l := acquire(t, p, pool.Hint{Session: s.session})
				if got := indexOf(ids, l.ID); got != s.want {
					t.Fatalf("step %d: got account %d, want %d", i, got, s.want)
				}
				o := success()
				if s.cool {
					o = pool.Outcome{Kind: pool.RateLimited, Until: clk.Now().Add(time.Minute)}
				}
				report(t, p, l, o)
			}
		})
	}
}

// TestAffinitySweep binds many short-lived sessions, enough for expired
// bindings to be swept several times: a session in use keeps its account
// through every sweep.
func TestAffinitySweep(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	p := open(t, m, clk, pool.WithStrategy(pool.RoundRobin), pool.WithAffinityTTL(time.Minute))
	live := acquire(t, p, pool.Hint{Session: "live"}).ID
	for i := range 500 {
		if i%50 == 0 {
			clk.Advance(30 * time.Second)
			if got := acquire(t, p, pool.Hint{Session: "live"}).ID; got != live {
				t.Fatalf("live session moved from %s to %s", live, got)
			}
		}
		acquire(t, p, pool.Hint{Session: fmt.Sprint("s", i)})
	}
}
