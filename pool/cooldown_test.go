package pool_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestBackoffGrowthAndCap(t *testing.T) {
	tests := []struct {
		name string
		kind pool.OutcomeKind
		opts []pool.Option
		want []time.Duration
	}{
		{
			name: "rate limit: 1s doubling, capped at 30min",
			kind: pool.RateLimited,
			want: []time.Duration{
				1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
				32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 512 * time.Second,
				1024 * time.Second, 30 * time.Minute, 30 * time.Minute,
			},
		},
		{
			name: "rate limit with WithBackoff",
			kind: pool.RateLimited,
			opts: []pool.Option{pool.WithBackoff(100*time.Millisecond, time.Second)},
			want: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second},
		},
		{
			name: "quota: 1h doubling, capped at 24h",
			kind: pool.QuotaExhausted,
			want: []time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 24 * time.Hour},
		},
		{
			name: "quota with WithQuotaBackoff",
			kind: pool.QuotaExhausted,
			opts: []pool.Option{pool.WithQuotaBackoff(time.Minute, 3*time.Minute)},
			want: []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(1)
			m.put(ids...)
			p := open(t, m, clk, tt.opts...)
			var got []time.Duration
			for range tt.want {
				l := acquire(t, p, pool.Hint{})
				report(t, p, l, pool.Outcome{Kind: tt.kind})
				a := accountOf(t, p, ids[0])
				got = append(got, a.Until.Sub(clk.Now()))
				clk.Advance(a.Until.Sub(clk.Now())) // the window closes
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cooldowns (-want +got):\n%s", diff)
			}
			// A success resets the backoff.
			report(t, p, acquire(t, p, pool.Hint{}), success())
			if a := accountOf(t, p, ids[0]); len(a.Cooldowns) != 0 {
				t.Errorf("after success: cooldowns %+v, want none", a.Cooldowns)
			}
			report(t, p, acquire(t, p, pool.Hint{}), pool.Outcome{Kind: tt.kind})
			if got := accountOf(t, p, ids[0]).Until.Sub(clk.Now()); got != tt.want[0] {
				t.Errorf("after reset: cooldown %v, want %v", got, tt.want[0])
			}
		})
	}
}

func TestHintCapping(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		kind pool.OutcomeKind
		hint time.Duration // from now; 0: no hint
		opts []pool.Option
		want time.Duration
	}{
		{"rate limit hint honoured", pool.RateLimited, 30 * time.Second, nil, 30 * time.Second},
		{"rate limit hint capped at 1h", pool.RateLimited, 2 * time.Hour, nil, time.Hour},
		{"rate limit cap option", pool.RateLimited, 2 * time.Hour, []pool.Option{pool.WithHintCaps(3*time.Hour, day)}, 2 * time.Hour},
		{"rate limit cap option caps", pool.RateLimited, 5 * time.Hour, []pool.Option{pool.WithHintCaps(3*time.Hour, day)}, 3 * time.Hour},
		{"caps that are not positive keep the defaults", pool.RateLimited, 2 * time.Hour, []pool.Option{pool.WithHintCaps(0, -time.Hour)}, time.Hour},
		{"rate limit hint in the past: backoff", pool.RateLimited, -time.Minute, nil, time.Second},
		{"rate limit no hint: backoff", pool.RateLimited, 0, nil, time.Second},
		{"quota hint honoured", pool.QuotaExhausted, 3 * day, nil, 3 * day},
		{"quota hint capped at 7 days", pool.QuotaExhausted, 30 * day, nil, 7 * day},
		{"quota cap option", pool.QuotaExhausted, 3 * day, []pool.Option{pool.WithHintCaps(time.Hour, day)}, day},
		{"quota no hint: 1h", pool.QuotaExhausted, 0, nil, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(2)
			m.put(ids...)
			p := open(t, m, clk, tt.opts...)
			o := pool.Outcome{Kind: tt.kind, Reason: "limit", Status: 429}
			if tt.hint != 0 {
				o.Until = clk.Now().Add(tt.hint)
			}
			report(t, p, acquire(t, p, pool.Hint{}), o)
			a := accountOf(t, p, ids[0])
			if got := a.Until.Sub(clk.Now()); got != tt.want {
				t.Errorf("cooldown %v, want %v", got, tt.want)
			}
			want := []pool.Cooldown{{Kind: tt.kind, Until: clk.Now().Add(tt.want), Step: 1, Reason: "limit", Status: 429}}
			if diff := cmp.Diff(want, a.Cooldowns); diff != "" {
				t.Errorf("cooldowns (-want +got):\n%s", diff)
			}
			if a.Availability != pool.Cooling {
				t.Errorf("availability %v, want cooling", a.Availability)
			}
			if got := label(t, p, pool.Hint{}); got != ids[1].Label {
				t.Errorf("next acquire got %s, want %s", got, ids[1].Label)
			}
			clk.Advance(tt.want)
			if got := label(t, p, pool.Hint{}); got != ids[0].Label {
				t.Errorf("after the window: got %s, want %s back", got, ids[0].Label)
			}
		})
	}
}

// TestBurstDedup sends 20 requests on one account before any answer
// arrives; all 20 come back 429. That is one rate limit, not twenty.
func TestBurstDedup(t *testing.T) {
	for _, concurrent := range []bool{false, true} {
		name := "sequential reports"
		if concurrent {
			name = "concurrent reports"
		}
		t.Run(name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(2)
			m.put(ids...)
			p := open(t, m, clk)
			leases := make([]*pool.Lease, 20)
			for i := range leases {
				leases[i] = acquire(t, p, pool.Hint{})
				if leases[i].ID != ids[0] {
					t.Fatalf("lease %d on %s", i, leases[i].ID)
				}
			}
			var wg sync.WaitGroup
			for _, l := range leases {
				if !concurrent {
					report(t, p, l, rateLimited())
					continue
				}
				wg.Go(func() {
					if err := p.Report(l, rateLimited()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			a := accountOf(t, p, ids[0])
			want := []pool.Cooldown{{Kind: pool.RateLimited, Until: clk.Now().Add(time.Second), Step: 1, Status: 429}}
			if diff := cmp.Diff(want, a.Cooldowns); diff != "" {
				t.Errorf("after the burst (-want +got):\n%s", diff)
			}
			if a.Stats.RateLimited != 20 {
				t.Errorf("RateLimited = %d, want 20 (each counted)", a.Stats.RateLimited)
			}
			// A 429 on a lease taken after the window closed escalates.
			clk.Advance(time.Second)
			report(t, p, acquire(t, p, pool.Hint{}), rateLimited())
			if got := accountOf(t, p, ids[0]).Cooldowns[0]; got.Step != 2 || got.Until.Sub(clk.Now()) != 2*time.Second {
				t.Errorf("next window: step %d, %v; want step 2, 2s", got.Step, got.Until.Sub(clk.Now()))
			}
		})
	}
}

// TestBurstHintExtends: a late report of the same burst cannot escalate,
// but a later server hint extends the window; an earlier one never
// shortens it.
func TestBurstHintExtends(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	p := open(t, m, clk)
	l1, l2, l3 := acquire(t, p, pool.Hint{}), acquire(t, p, pool.Hint{}), acquire(t, p, pool.Hint{})
	now := clk.Now()
	report(t, p, l1, pool.Outcome{Kind: pool.RateLimited, Until: now.Add(10 * time.Second)})
	report(t, p, l2, pool.Outcome{Kind: pool.RateLimited, Until: now.Add(20 * time.Second)})
	report(t, p, l3, pool.Outcome{Kind: pool.RateLimited, Until: now.Add(5 * time.Second)})
	want := []pool.Cooldown{{Kind: pool.RateLimited, Until: now.Add(20 * time.Second), Step: 1}}
	if diff := cmp.Diff(want, accountOf(t, p, ids[0]).Cooldowns); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestBurstQuotaReplacesRateLimit: an exhausted quota reported late in a
// burst is news, not a duplicate: it replaces the short window.
func TestBurstQuotaReplacesRateLimit(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(1)
	m.put(ids...)
	p := open(t, m, clk)
	l1, l2, l3 := acquire(t, p, pool.Hint{}), acquire(t, p, pool.Hint{}), acquire(t, p, pool.Hint{})
	report(t, p, l1, rateLimited())
	report(t, p, l2, pool.Outcome{Kind: pool.QuotaExhausted, Reason: "insufficient_quota"})
	report(t, p, l3, rateLimited()) // late, and milder: ignored
	want := []pool.Cooldown{{Kind: pool.QuotaExhausted, Until: clk.Now().Add(time.Hour), Step: 1, Reason: "insufficient_quota"}}
	if diff := cmp.Diff(want, accountOf(t, p, ids[0]).Cooldowns); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestStaleSuccessKeepsWindow: a success on a lease taken before the
// window opened was sent before the limit hit; it does not end the window.
func TestStaleSuccessKeepsWindow(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	p := open(t, m, clk)
	l1, l2 := acquire(t, p, pool.Hint{}), acquire(t, p, pool.Hint{})
	report(t, p, l1, pool.Outcome{Kind: pool.RateLimited, Until: clk.Now().Add(time.Minute)})
	report(t, p, l2, success())
	if a := accountOf(t, p, ids[0]); a.Availability != pool.Cooling {
		t.Errorf("availability %v, want cooling", a.Availability)
	}
	if got := label(t, p, pool.Hint{}); got != ids[1].Label {
		t.Errorf("got %s, want %s", got, ids[1].Label)
	}
}

func TestModelScope(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	p := open(t, m, clk, pool.WithModelScope())
	h1, h2 := pool.Hint{Model: "m1"}, pool.Hint{Model: "m2"}

	// A 429 for m1 (from the lease's hint) cools (account 0, m1) only.
	report(t, p, acquire(t, p, h1), pool.Outcome{Kind: pool.RateLimited, Until: clk.Now().Add(time.Minute)})
	want := map[pool.Hint]string{h1: ids[1].Label, h2: ids[0].Label, {}: ids[0].Label}
	for h, w := range want {
		if got := label(t, p, h); got != w {
			t.Errorf("Acquire(%+v) = %s, want %s", h, got, w)
		}
	}
	// The outcome's Model wins over the hint's.
	report(t, p, acquire(t, p, h2), pool.Outcome{Kind: pool.RateLimited, Model: "m3", Until: clk.Now().Add(2 * time.Minute)})
	a := accountOf(t, p, ids[0])
	wantCD := []pool.Cooldown{
		{Model: "m1", Kind: pool.RateLimited, Until: clk.Now().Add(time.Minute), Step: 1},
		{Model: "m3", Kind: pool.RateLimited, Until: clk.Now().Add(2 * time.Minute), Step: 1},
	}
	if diff := cmp.Diff(wantCD, a.Cooldowns); diff != "" {
		t.Errorf("cooldowns (-want +got):\n%s", diff)
	}
	if a.Availability != pool.Ready {
		t.Errorf("account availability %v, want ready (only models cool)", a.Availability)
	}
	// With m1 cooling on both accounts, m1 is exhausted, others are not.
	report(t, p, acquire(t, p, h1), pool.Outcome{Kind: pool.RateLimited, Until: clk.Now().Add(30 * time.Second)})
	_, err := p.Acquire(context.Background(), h1)
	var ex *pool.ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("Acquire(m1) error %v, want *ExhaustedError", err)
	}
	if want := clk.Now().Add(30 * time.Second); !ex.Soonest.Equal(want) {
		t.Errorf("Soonest %v, want %v", ex.Soonest, want)
	}
	if got := label(t, p, h2); got != ids[0].Label {
		t.Errorf("Acquire(m2) = %s, want %s", got, ids[0].Label)
	}
	// A success for m1 after its window closes resets only m1's backoff.
	clk.Advance(time.Minute)
	l := acquire(t, p, h1)
	report(t, p, l, success())
	if got := accountOf(t, p, l.ID).Cooldowns; len(got) != 0 && got[0].Model == "m1" {
		t.Errorf("m1 backoff not reset on %s: %+v", l.ID, got)
	}
	if got := accountOf(t, p, ids[0]).Cooldowns; len(got) != 1 || got[0].Model != "m3" {
		t.Errorf("account 0 cooldowns %+v, want only m3's", got)
	}
}

func TestExhausted(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	ids := accts(4)
	m.put(ids...)
	p := open(t, m, clk)
	now := clk.Now()
	report(t, p, acquire(t, p, pool.Hint{}), pool.Outcome{Kind: pool.RateLimited, Until: now.Add(10 * time.Minute)})
	report(t, p, acquire(t, p, pool.Hint{}), pool.Outcome{Kind: pool.QuotaExhausted, Until: now.Add(5 * time.Minute)})
	report(t, p, acquire(t, p, pool.Hint{}), pool.Outcome{Kind: pool.NeedsReauth, Reason: "invalid_grant"})
	if err := p.Disable(ctx, ids[3], "billing"); err != nil {
		t.Fatal(err)
	}
	_, err := p.Acquire(ctx, pool.Hint{})
	var ex *pool.ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("error %v, want *ExhaustedError", err)
	}
	want := &pool.ExhaustedError{
		Key:     testKey,
		Soonest: now.Add(5 * time.Minute),
		Reasons: map[pool.Availability]int{pool.Cooling: 2, pool.ReauthNeeded: 1, pool.Disabled: 1},
	}
	if diff := cmp.Diff(want, ex); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, wantMsg := err.Error(), "pool anthropic/default: no account ready: 2 cooling, 1 disabled, 1 needs re-authentication; next ready at 2025-06-01T12:05:00Z"; got != wantMsg {
		t.Errorf("message\n got %q\nwant %q", got, wantMsg)
	}

	// Once the cooling accounts are taken out too, nothing becomes ready
	// by itself.
	for _, id := range ids[:2] {
		if err := p.Disable(ctx, id, ""); err != nil {
			t.Fatal(err)
		}
	}
	_, err = p.Acquire(ctx, pool.Hint{})
	if !errors.As(err, &ex) || !ex.Soonest.IsZero() {
		t.Fatalf("error %v, want *ExhaustedError with zero Soonest", err)
	}
	if got, wantMsg := err.Error(), "pool anthropic/default: no account ready: 3 disabled, 1 needs re-authentication; none becomes ready without an operator"; got != wantMsg {
		t.Errorf("message\n got %q\nwant %q", got, wantMsg)
	}
}

func TestNoAccounts(t *testing.T) {
	m, clk := newMemVault(), newClock()
	m.put(records.ID{Provider: "openai", Namespace: "default", Label: "other"})
	p := open(t, m, clk)
	_, err := p.Acquire(context.Background(), pool.Hint{})
	if !errors.Is(err, pool.ErrNoAccounts) {
		t.Fatalf("error %v, want ErrNoAccounts", err)
	}
	// A record added later is found by Refresh (or by the periodic
	// listing, or when another pool appends it to the shared state).
	m.put(accts(1)...)
	if err := p.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := label(t, p, pool.Hint{}); got != accts(1)[0].Label {
		t.Errorf("got %s", got)
	}
}

func TestOutcomeEffects(t *testing.T) {
	tests := []struct {
		name string
		o    pool.Outcome
		want pool.Account
	}{
		{"success", success(), pool.Account{Availability: pool.Ready, Stats: pool.Stats{Requests: 1, Successes: 1, LastStatus: 200, LastOutcome: pool.Success}}},
		{"auth rejected is only counted", pool.Outcome{Kind: pool.AuthRejected, Status: 401}, pool.Account{Availability: pool.Ready, Stats: pool.Stats{Requests: 1, AuthFailures: 1, LastStatus: 401, LastOutcome: pool.AuthRejected}}},
		{"needs reauth sets the flag", pool.Outcome{Kind: pool.NeedsReauth, Reason: "invalid_grant", Status: 400}, pool.Account{
			Availability: pool.ReauthNeeded, NeedsReauth: true, ReauthReason: "invalid_grant (HTTP 400)",
			Stats: pool.Stats{Requests: 1, AuthFailures: 1, LastStatus: 400, LastOutcome: pool.NeedsReauth}}},
		{"fatal disables", pool.Outcome{Kind: pool.Fatal, Reason: "credential only authorized for another client", Status: 400}, pool.Account{
			Availability: pool.Disabled, Disabled: true, DisabledReason: "credential only authorized for another client (HTTP 400)",
			Stats: pool.Stats{Requests: 1, Errors: 1, LastStatus: 400, LastOutcome: pool.Fatal}}},
		{"fatal without a reason", pool.Outcome{Kind: pool.Fatal}, pool.Account{
			Availability: pool.Disabled, Disabled: true, DisabledReason: "refused by the provider",
			Stats: pool.Stats{Requests: 1, Errors: 1, LastOutcome: pool.Fatal}}},
		{"overloaded: no cooldown", pool.Outcome{Kind: pool.Overloaded, Status: 529}, pool.Account{Availability: pool.Ready, Stats: pool.Stats{Requests: 1, Overloaded: 1, LastStatus: 529, LastOutcome: pool.Overloaded}}},
		{"transient: no cooldown", pool.Outcome{Kind: pool.Transient}, pool.Account{Availability: pool.Ready, Stats: pool.Stats{Requests: 1, Errors: 1, LastOutcome: pool.Transient}}},
		{"refreshed success counts a refresh", pool.Outcome{Kind: pool.Success, Refreshed: true, Status: 200}, pool.Account{Availability: pool.Ready, Stats: pool.Stats{Requests: 1, Successes: 1, Refreshes: 1, LastStatus: 200, LastOutcome: pool.Success}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(1)
			m.put(ids...)
			p := open(t, m, clk)
			l := acquire(t, p, pool.Hint{})
			clk.Advance(time.Second)
			report(t, p, l, tt.o)
			want := tt.want
			want.ID = ids[0]
			want.Stats.LastUsed = l.Acquired
			want.Stats.LastReport = clk.Now()
			if diff := cmp.Diff(want, accountOf(t, p, ids[0]), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
