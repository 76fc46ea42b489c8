package pool_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
	"github.com/google/go-cmp/cmp"
)

// view is what an operator sees of an account, for comparing pools.
type view struct {
	Label        string
	Availability pool.Availability
	Reason       string
}

func views(t *testing.T, p *pool.Pool) []view {
	t.Helper()
	accs, err := p.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]view, len(accs))
	for i, a := range accs {
		if a.Position != i {
			t.Errorf("%s at index %d has Position %d", a.ID, i, a.Position)
		}
		out[i] = view{Label: a.ID.Label, Availability: a.Availability, Reason: a.DisabledReason + a.ReauthReason}
	}
	return out
}

func TestOperationsPersisted(t *testing.T) {
	ctx := context.Background()
	ids := accts(4)
	l := func(i int) string { return ids[i].Label }
	tests := []struct {
		name string
		do   func(p *pool.Pool) error
		want []view
	}{
		{"move to the front", func(p *pool.Pool) error { return p.Move(ctx, ids[2], 0) },
			[]view{{l(2), pool.Ready, ""}, {l(0), pool.Ready, ""}, {l(1), pool.Ready, ""}, {l(3), pool.Ready, ""}}},
		{"move to the back", func(p *pool.Pool) error { return p.Move(ctx, ids[0], 3) },
			[]view{{l(1), pool.Ready, ""}, {l(2), pool.Ready, ""}, {l(3), pool.Ready, ""}, {l(0), pool.Ready, ""}}},
		{"move two to the front", func(p *pool.Pool) error {
			if err := p.Move(ctx, ids[1], 0); err != nil {
				return err
			}
			return p.Move(ctx, ids[3], 0)
		},
			[]view{{l(3), pool.Ready, ""}, {l(1), pool.Ready, ""}, {l(0), pool.Ready, ""}, {l(2), pool.Ready, ""}}},
		{"disable", func(p *pool.Pool) error { return p.Disable(ctx, ids[1], "left the team") },
			[]view{{l(0), pool.Ready, ""}, {l(1), pool.Disabled, "left the team"}, {l(2), pool.Ready, ""}, {l(3), pool.Ready, ""}}},
		{"disable then enable", func(p *pool.Pool) error {
			if err := p.Disable(ctx, ids[1], ""); err != nil {
				return err
			}
			return p.Enable(ctx, ids[1])
		}, []view{{l(0), pool.Ready, ""}, {l(1), pool.Ready, ""}, {l(2), pool.Ready, ""}, {l(3), pool.Ready, ""}}},
		{"cool then reset", func(p *pool.Pool) error {
			lease, err := p.Acquire(ctx, pool.Hint{})
			if err != nil {
				return err
			}
			if err := p.Report(lease, pool.Outcome{Kind: pool.QuotaExhausted}); err != nil {
				return err
			}
			return p.Reset(ctx, ids[0])
		}, []view{{l(0), pool.Ready, ""}, {l(1), pool.Ready, ""}, {l(2), pool.Ready, ""}, {l(3), pool.Ready, ""}}},
		{"cool", func(p *pool.Pool) error {
			lease, err := p.Acquire(ctx, pool.Hint{})
			if err != nil {
				return err
			}
			return p.Report(lease, pool.Outcome{Kind: pool.QuotaExhausted})
		}, []view{{l(0), pool.Cooling, ""}, {l(1), pool.Ready, ""}, {l(2), pool.Ready, ""}, {l(3), pool.Ready, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			m.put(ids...)
			p1 := open(t, m, clk)
			other := open(t, m, clk) // open before the change
			if err := tt.do(p1); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, views(t, p1)); diff != "" {
				t.Errorf("this pool (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, views(t, other)); diff != "" {
				t.Errorf("a pool open at the time (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, views(t, open(t, m, clk))); diff != "" {
				t.Errorf("a pool opened later (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOperationErrors(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	m.put(records.ID{Provider: "openai", Namespace: "default", Label: "x"})
	p := open(t, m, clk)
	stranger := records.ID{Provider: "openai", Namespace: "default", Label: "x"}
	missing := acct("nobody")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"move another pool's account", p.Move(ctx, stranger, 0), pool.ErrUnknownAccount},
		{"move a missing account", p.Move(ctx, missing, 0), pool.ErrUnknownAccount},
		{"disable a missing account", p.Disable(ctx, missing, ""), pool.ErrUnknownAccount},
		{"enable a missing account", p.Enable(ctx, missing), pool.ErrUnknownAccount},
		{"reset a missing account", p.Reset(ctx, missing), pool.ErrUnknownAccount},
		{"clear a missing account", p.ClearNeedsReauth(ctx, missing), pool.ErrUnknownAccount},
		{"refresh a missing account", p.RecordRefresh(ctx, missing, true), pool.ErrUnknownAccount},
		{"account of a missing account", func() error { _, err := p.Account(ctx, missing); return err }(), pool.ErrUnknownAccount},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	for name, err := range map[string]error{
		"move out of range": p.Move(ctx, ids[0], 2),
		"move negative":     p.Move(ctx, ids[0], -1),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if diff := cmp.Diff([]view{{ids[0].Label, pool.Ready, ""}, {ids[1].Label, pool.Ready, ""}}, views(t, p)); diff != "" {
		t.Errorf("failed operations changed the pool (-want +got):\n%s", diff)
	}
}

func TestNeedsReauth(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		clear func(t *testing.T, p *pool.Pool, id records.ID, held *pool.Lease)
		want  pool.Availability
	}{
		{"cleared by a login", func(t *testing.T, p *pool.Pool, id records.ID, held *pool.Lease) {
			if err := p.ClearNeedsReauth(ctx, id); err != nil {
				t.Fatal(err)
			}
		}, pool.Ready},
		{"cleared by a successful refresh", func(t *testing.T, p *pool.Pool, id records.ID, held *pool.Lease) {
			if err := p.RecordRefresh(ctx, id, true); err != nil {
				t.Fatal(err)
			}
		}, pool.Ready},
		{"not cleared by a failed refresh", func(t *testing.T, p *pool.Pool, id records.ID, held *pool.Lease) {
			if err := p.RecordRefresh(ctx, id, false); err != nil {
				t.Fatal(err)
			}
		}, pool.ReauthNeeded},
		{"cleared by a success after a refresh", func(t *testing.T, p *pool.Pool, id records.ID, held *pool.Lease) {
			// The transport held a lease on the account when another
			// process flagged it, refreshed, and the retry succeeded.
			if err := p.Report(held, pool.Outcome{Kind: pool.Success, Refreshed: true}); err != nil {
				t.Fatal(err)
			}
		}, pool.Ready},
		{"not cleared by a plain success", func(t *testing.T, p *pool.Pool, id records.ID, held *pool.Lease) {
			if err := p.Report(held, success()); err != nil {
				t.Fatal(err)
			}
		}, pool.ReauthNeeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(2)
			m.put(ids...)
			p1, p2 := open(t, m, clk), open(t, m, clk)
			held := acquire(t, p2, pool.Hint{})
			report(t, p1, acquire(t, p1, pool.Hint{}), pool.Outcome{Kind: pool.NeedsReauth, Reason: "invalid_grant"})

			// Persisted: a pool opened now sees the flag and its reason.
			p3 := open(t, m, clk)
			want := []view{{ids[0].Label, pool.ReauthNeeded, "invalid_grant"}, {ids[1].Label, pool.Ready, ""}}
			if diff := cmp.Diff(want, views(t, p3)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got := label(t, p2, pool.Hint{}); got != ids[1].Label {
				t.Errorf("flagged account handed out: %s", got)
			}
			tt.clear(t, p2, ids[0], held)
			for name, p := range map[string]*pool.Pool{"p1": p1, "p2": p2, "p3": p3} {
				if got := accountOf(t, p, ids[0]).Availability; got != tt.want {
					t.Errorf("%s: %v, want %v", name, got, tt.want)
				}
			}
		})
	}
}

// TestCooldownSharedBetweenPools: two pools on one vault stand for two
// processes. A 429 in one is honoured by the other's next Acquire, and a
// stale 429 from the other does not escalate the window again.
func TestCooldownSharedBetweenPools(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(3)
	m.put(ids...)
	p1, p2 := open(t, m, clk), open(t, m, clk)
	l1, l2 := acquire(t, p1, pool.Hint{}), acquire(t, p2, pool.Hint{})
	report(t, p1, l1, rateLimited())
	if got := label(t, p2, pool.Hint{}); got != ids[1].Label {
		t.Errorf("p2 after p1's 429: %s, want %s", got, ids[1].Label)
	}
	report(t, p2, l2, rateLimited())
	want := []pool.Cooldown{{Kind: pool.RateLimited, Until: clk.Now().Add(time.Second), Step: 1, Status: 429}}
	for name, p := range map[string]*pool.Pool{"p1": p1, "p2": p2} {
		if diff := cmp.Diff(want, accountOf(t, p, ids[0]).Cooldowns); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// TestMergeKeepsOthersChanges: a pool that has not seen another's write
// merges into it instead of overwriting it with its older copy.
func TestMergeKeepsOthersChanges(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	ids := accts(3)
	m.put(ids...)
	p1, p2 := open(t, m, clk), open(t, m, clk)
	l1 := acquire(t, p1, pool.Hint{})
	l2 := acquire(t, p2, pool.Hint{})
	// p2 makes no call that reads the state between these writes.
	report(t, p1, l1, pool.Outcome{Kind: pool.QuotaExhausted, Until: clk.Now().Add(time.Hour)})
	if err := p2.Disable(ctx, ids[2], "spare"); err != nil {
		t.Fatal(err)
	}
	report(t, p2, l2, success()) // a stale success: must not end p1's window
	if err := p1.Move(ctx, ids[1], 0); err != nil {
		t.Fatal(err)
	}
	want := []view{{ids[1].Label, pool.Ready, ""}, {ids[0].Label, pool.Cooling, ""}, {ids[2].Label, pool.Disabled, "spare"}}
	for name, p := range map[string]*pool.Pool{"p1": p1, "p2": p2, "new": open(t, m, clk)} {
		if diff := cmp.Diff(want, views(t, p)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestCounterFlush(t *testing.T) {
	tests := []struct {
		name    string
		opts    []pool.Option
		advance time.Duration // before each report
		quiet   int           // reports that write nothing
	}{
		{"every 3 reports", []pool.Option{pool.WithCounterFlush(3, 0)}, 0, 2},
		{"every 10 seconds", []pool.Option{pool.WithCounterFlush(0, 10*time.Second)}, 3 * time.Second, 3},
		{"default: every 15 seconds", nil, 4 * time.Second, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(1)
			m.put(ids...)
			p := open(t, m, clk, tt.opts...)
			observer := open(t, m, clk)
			_, writes := m.counts()
			for i := range tt.quiet {
				clk.Advance(tt.advance)
				report(t, p, acquire(t, p, pool.Hint{}), success())
				if _, w := m.counts(); w != writes {
					t.Fatalf("report %d wrote the state", i+1)
				}
				// This process counts them already; others do not yet.
				if got := accountOf(t, p, ids[0]).Stats.Successes; got != uint64(i+1) {
					t.Errorf("own view: %d successes, want %d", got, i+1)
				}
				if got := accountOf(t, observer, ids[0]).Stats.Successes; got != 0 {
					t.Errorf("other view: %d successes before the flush", got)
				}
			}
			clk.Advance(tt.advance)
			report(t, p, acquire(t, p, pool.Hint{}), success())
			if _, w := m.counts(); w != writes+1 {
				t.Fatalf("%d writes after the batch, want 1", w-writes)
			}
			n := uint64(tt.quiet + 1)
			for name, q := range map[string]*pool.Pool{"own": p, "other": observer} {
				if got := accountOf(t, q, ids[0]).Stats; got.Successes != n || got.Requests != n {
					t.Errorf("%s view after the flush: %d requests, %d successes; want %d", name, got.Requests, got.Successes, n)
				}
			}
			// Close writes what is left.
			report(t, p, acquire(t, p, pool.Hint{}), success())
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if got := accountOf(t, observer, ids[0]).Stats.Successes; got != n+1 {
				t.Errorf("after Close: %d successes, want %d", got, n+1)
			}
		})
	}
}

func TestStatsMergeAcrossPools(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(1)
	m.put(ids...)
	p1, p2 := open(t, m, clk), open(t, m, clk)
	for range 3 {
		report(t, p1, acquire(t, p1, pool.Hint{}), success())
	}
	if err := p1.RecordRefresh(context.Background(), ids[0], true); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		report(t, p2, acquire(t, p2, pool.Hint{}), pool.Outcome{Kind: pool.Transient})
	}
	clk.Advance(time.Second)
	l := acquire(t, p2, pool.Hint{})
	report(t, p2, l, pool.Outcome{Kind: pool.AuthRejected, Status: 401})
	if err := p2.RecordRefresh(context.Background(), ids[0], false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*pool.Pool{p1, p2} {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := pool.Stats{
		Requests: 6, Successes: 3, Errors: 2, AuthFailures: 1, Refreshes: 1, RefreshFailures: 1,
		LastUsed: l.Acquired, LastReport: clk.Now(), LastStatus: 401, LastOutcome: pool.AuthRejected,
	}
	if diff := cmp.Diff(want, accountOf(t, open(t, m, clk), ids[0]).Stats); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMembership(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	m.put(acct("m"), acct("z"))
	p := open(t, m, clk, pool.WithRelistInterval(time.Minute))
	labels := func(p *pool.Pool) []string {
		var out []string
		for _, v := range views(t, p) {
			out = append(out, v.Label)
		}
		return out
	}

	// New records are appended in label order after the existing ones,
	// once the listing is due.
	m.put(acct("b"), acct("a"))
	if diff := cmp.Diff([]string{"m", "z"}, labels(p)); diff != "" {
		t.Errorf("before the relist (-want +got):\n%s", diff)
	}
	clk.Advance(time.Minute)
	acquire(t, p, pool.Hint{})
	if diff := cmp.Diff([]string{"m", "z", "a", "b"}, labels(p)); diff != "" {
		t.Errorf("after the relist (-want +got):\n%s", diff)
	}

	// A record another process's pool has already appended is picked up
	// through the state, without waiting for the listing.
	m.put(acct("c"))
	clk.Advance(time.Second)
	open(t, m, clk, pool.WithRelistInterval(0))
	if diff := cmp.Diff([]string{"m", "z", "a", "b", "c"}, labels(p)); diff != "" {
		t.Errorf("after another pool appended (-want +got):\n%s", diff)
	}

	// A deleted record leaves the pool, and the state.
	m.remove(acct("m"))
	clk.Advance(time.Second)
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"z", "a", "b", "c"}, labels(p)); diff != "" {
		t.Errorf("after the delete (-want +got):\n%s", diff)
	}
	if strings.Contains(string(m.blob(pool.StateName(testKey))), `"m"`) {
		t.Errorf("state still holds the deleted account: %s", m.blob(pool.StateName(testKey)))
	}
	// Re-adding it starts afresh, at the end.
	m.put(acct("m"))
	clk.Advance(time.Second)
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"z", "a", "b", "c", "m"}, labels(p)); diff != "" {
		t.Errorf("after re-adding (-want +got):\n%s", diff)
	}
}

func TestBadStateBlob(t *testing.T) {
	name := pool.StateName(testKey)
	tests := []struct {
		name     string
		blob     string
		tampered bool
		want     error
		rewrite  bool // the pool replaces it on its first write
	}{
		{"tampered", `{"v":1,"order":[],"accounts":{}}`, true, vault.ErrTampered, true},
		{"not JSON", `{"v":1,"order":[`, false, pool.ErrCorruptState, true},
		{"old version", `{"v":0,"order":[],"accounts":{}}`, false, pool.ErrCorruptState, true},
		{"unknown field", `{"v":1,"order":[],"accounts":{},"x":1}`, false, pool.ErrCorruptState, true},
		{"trailing data", `{"v":1,"order":[],"accounts":{}} {}`, false, pool.ErrCorruptState, true},
		{"dangling label", `{"v":1,"order":["acct-00000"],"accounts":{}}`, false, pool.ErrCorruptState, true},
		{"duplicate label", `{"v":1,"order":["acct-00000","acct-00000"],"accounts":{"acct-00000":{"added":"2025-01-01T00:00:00Z","stats":{"last_outcome":"success"}}}}`, false, pool.ErrCorruptState, true},
		{"bad cooldown", `{"v":1,"order":["acct-00000"],"accounts":{"acct-00000":{"added":"2025-01-01T00:00:00Z","cooldowns":{"":{"kind":"success","until":"2025-01-01T00:00:00Z","step":1,"window":0}},"stats":{"last_outcome":"success"}}}}`, false, pool.ErrCorruptState, true},
		{"unknown outcome", `{"v":1,"order":["acct-00000"],"accounts":{"acct-00000":{"added":"2025-01-01T00:00:00Z","stats":{"last_outcome":"nope"}}}}`, false, pool.ErrCorruptState, true},
		{"newer version", `{"v":2,"whatever":true}`, false, pool.ErrNewerState, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newMemVault(), newClock()
			ids := accts(3)
			m.put(ids...)
			// Some real state first: a cooldown and a new order, which the
			// bad blob then replaces.
			p0 := open(t, m, clk)
			report(t, p0, acquire(t, p0, pool.Hint{}), pool.Outcome{Kind: pool.QuotaExhausted})
			if err := p0.Move(context.Background(), ids[2], 0); err != nil {
				t.Fatal(err)
			}
			recordsBefore := snapshotRecords(t, m, ids)
			m.setBlob(name, []byte(tt.blob), tt.tampered)

			var reported []error
			p := open(t, m, clk, pool.WithStateErrorHandler(func(err error) { reported = append(reported, err) }))
			checkBad := func(stage string) {
				t.Helper()
				var se *pool.StateError
				if err := p.Health(); !errors.As(err, &se) || !errors.Is(err, tt.want) || se.Op != "read" || se.Key != testKey || se.Name != name {
					t.Errorf("%s: Health() = %v, want a read *StateError wrapping %v", stage, err, tt.want)
				}
			}
			checkBad("after Open")
			// A newer state is also refused on write; anything else is
			// reported once.
			if len(reported) == 0 || tt.rewrite && len(reported) != 1 {
				t.Errorf("handler got %v, want one error wrapping %v", reported, tt.want)
			}
			for _, err := range reported {
				if !errors.Is(err, tt.want) {
					t.Errorf("handler got %v, want it to wrap %v", err, tt.want)
				}
			}
			// The cooldown is lost; the order, an operator's decision kept
			// in the records, is not.
			clean := []view{{ids[2].Label, pool.Ready, ""}, {ids[0].Label, pool.Ready, ""}, {ids[1].Label, pool.Ready, ""}}
			if diff := cmp.Diff(clean, views(t, p)); diff != "" {
				t.Errorf("not a clean state (-want +got):\n%s", diff)
			}

			err := p.Report(acquire(t, p, pool.Hint{}), rateLimited())
			if tt.rewrite {
				if err != nil {
					t.Fatalf("first write: %v", err)
				}
				q := open(t, m, clk)
				if q.Health() != nil {
					t.Errorf("the rewritten state does not read back: %v", q.Health())
				}
			} else {
				if !errors.Is(err, pool.ErrNewerState) {
					t.Errorf("write over a newer state: %v, want ErrNewerState", err)
				}
				if got := string(m.blob(name)); got != tt.blob {
					t.Errorf("newer state overwritten with %s", got)
				}
				// The cooldown holds in this process all the same.
				if got := label(t, p, pool.Hint{}); got != ids[0].Label {
					t.Errorf("got %s, want %s", got, ids[0].Label)
				}
			}
			checkBad("after a write (stays reported)")
			if diff := cmp.Diff(recordsBefore, snapshotRecords(t, m, ids)); diff != "" {
				t.Errorf("records changed (-before +after):\n%s", diff)
			}
		})
	}
}

// TestStateCorruptedWhileOpen: the blob goes bad under a running pool.
func TestStateCorruptedWhileOpen(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	p := open(t, m, clk)
	report(t, p, acquire(t, p, pool.Hint{}), pool.Outcome{Kind: pool.QuotaExhausted})
	if p.Health() != nil {
		t.Fatal(p.Health())
	}
	m.setBlob(pool.StateName(testKey), []byte("garbage"), false)
	if got := label(t, p, pool.Hint{}); got != ids[0].Label {
		t.Errorf("got %s, want %s from a clean state", got, ids[0].Label)
	}
	if err := p.Health(); !errors.Is(err, pool.ErrCorruptState) {
		t.Errorf("Health() = %v, want ErrCorruptState", err)
	}
}

func TestWriteFailure(t *testing.T) {
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	var reported []error
	p := open(t, m, clk, pool.WithStateErrorHandler(func(err error) { reported = append(reported, err) }))
	other := open(t, m, clk)
	diskFull := errors.New("disk full")
	m.setWriteErr(diskFull)
	err := p.Report(acquire(t, p, pool.Hint{}), rateLimited())
	var se *pool.StateError
	if !errors.As(err, &se) || se.Op != "write" || !errors.Is(err, diskFull) {
		t.Fatalf("Report: %v, want a write *StateError wrapping the disk error", err)
	}
	if !errors.Is(p.Health(), diskFull) || len(reported) != 1 {
		t.Errorf("Health() = %v, handler got %v", p.Health(), reported)
	}
	// In effect here, not yet elsewhere.
	if got := label(t, p, pool.Hint{}); got != ids[1].Label {
		t.Errorf("this pool: %s, want %s", got, ids[1].Label)
	}
	if got := label(t, other, pool.Hint{}); got != ids[0].Label {
		t.Errorf("other pool: %s, want %s", got, ids[0].Label)
	}
	// Once writes work again, the next Acquire after the retry delay
	// writes the change.
	m.setWriteErr(nil)
	clk.Advance(5 * time.Second)
	if got := label(t, p, pool.Hint{}); got != ids[0].Label {
		t.Errorf("after the window: %s", got)
	}
	if p.Health() != nil {
		t.Errorf("Health() after a good write: %v", p.Health())
	}
	if got := accountOf(t, other, ids[0]); got.Stats.RateLimited != 1 || len(got.Cooldowns) != 1 {
		t.Errorf("other pool after the retry: %+v", got)
	}
}

func snapshotRecords(t *testing.T, m *memVault, ids []records.ID) []*records.Record {
	t.Helper()
	c := m.client()
	var out []*records.Record
	for _, id := range ids {
		r, err := c.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestQuietOpen: opening a pool on a state that already lists every
// account reads it and writes nothing; acquiring and reporting successes
// writes nothing until a batch is due.
func TestQuietOpen(t *testing.T) {
	m, clk := newMemVault(), newClock()
	m.put(accts(3)...)
	open(t, m, clk)
	reads, writes := m.counts()
	if writes != 1 {
		t.Fatalf("first Open: %d writes, want 1 (the new accounts)", writes)
	}
	p := open(t, m, clk)
	for range 10 {
		report(t, p, acquire(t, p, pool.Hint{}), success())
	}
	r, w := m.counts()
	if w != writes || r != reads+1 {
		t.Errorf("second Open and 10 requests: %d reads, %d writes; want 1, 0", r-reads, w-writes)
	}
}

// TestHandlerMayCallPool: the state error handler runs outside every
// lock of the pool, even for an error found while writing.
func TestHandlerMayCallPool(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	ids := accts(2)
	m.put(ids...)
	var p *pool.Pool
	var calls []error
	p = open(t, m, clk, pool.WithStateErrorHandler(func(err error) {
		calls = append(calls, err)
		if len(calls) == 1 {
			if err := p.Disable(ctx, ids[1], "from the handler"); err != nil {
				t.Error(err)
			}
		}
	}))
	l := acquire(t, p, pool.Hint{})
	// The blob goes bad after this process last read it; the write finds
	// it.
	m.setBlob(pool.StateName(testKey), []byte("garbage"), false)
	report(t, p, l, rateLimited())
	if len(calls) != 1 || !errors.Is(calls[0], pool.ErrCorruptState) {
		t.Errorf("handler calls %v", calls)
	}
	want := []view{{ids[0].Label, pool.Cooling, ""}, {ids[1].Label, pool.Disabled, "from the handler"}}
	if diff := cmp.Diff(want, views(t, open(t, m, clk))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// An account whose record cannot be read is skipped until it is checked
// again, and a success on it, or Reset, clears the mark.
func TestRecordUnreadable(t *testing.T) {
	ctx := context.Background()
	m := newMemVault()
	ids := accts(2)
	m.put(ids...)
	clk := newClock()
	p := open(t, m, clk)
	l := acquire(t, p, pool.Hint{})
	if l.ID != ids[0] {
		t.Fatalf("first lease on %s", l.ID)
	}
	report(t, p, l, pool.Outcome{Kind: pool.RecordUnreadable, Reason: pool.UnreadableClass(vault.ErrTampered)})
	a := accountOf(t, p, ids[0])
	if a.Availability != pool.Unreadable || a.Unreadable != "tampered" || !a.Until.Equal(clk.Now().Add(pool.UnreadableRecheck)) {
		t.Fatalf("after the failed read: %v %q until %v", a.Availability, a.Unreadable, a.Until)
	}
	if got := label(t, p, pool.Hint{}); got != ids[1].Label {
		t.Fatalf("served by %s while the first is unreadable", got)
	}
	// Another process sees the mark.
	if a := accountOf(t, open(t, m, clk), ids[0]); a.Unreadable != "tampered" {
		t.Fatalf("another pool sees %q", a.Unreadable)
	}
	clk.Advance(pool.UnreadableRecheck)
	l = acquire(t, p, pool.Hint{})
	if l.ID != ids[0] {
		t.Fatalf("after the recheck delay, served by %s", l.ID)
	}
	report(t, p, l, success())
	if a := accountOf(t, p, ids[0]); a.Availability != pool.Ready || a.Unreadable != "" {
		t.Fatalf("after a success: %v %q", a.Availability, a.Unreadable)
	}
	report(t, p, acquire(t, p, pool.Hint{}), pool.Outcome{Kind: pool.RecordUnreadable, Reason: "permissions"})
	if err := p.Reset(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if a := accountOf(t, p, ids[0]); a.Availability != pool.Ready || a.Unreadable != "" {
		t.Fatalf("after Reset: %v %q", a.Availability, a.Unreadable)
	}
}

func TestUnreadableClass(t *testing.T) {
	for err, want := range map[error]string{
		&vault.PermissionError{Path: "x"}:                  "permissions",
		&vault.RecordError{Err: vault.ErrTampered}:         "tampered",
		vault.ErrMissing:                                   "missing",
		vault.ErrRollback:                                  "rollback",
		errors.New("disk on fire"):                         "error",
		&vault.RecordError{Err: records.ErrEnvelopeFormat}: "tampered",
	} {
		if got := pool.UnreadableClass(err); got != want {
			t.Errorf("UnreadableClass(%v) = %q, want %q", err, got, want)
		}
	}
}

// With WithWriteBehind, Report leaves the write to Flush: one write for
// every change queued since the last, none when nothing changed, and the
// counters alone written behind once due, which Close waits for.
func TestWriteBehindFlush(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	ids := accts(3)
	m.put(ids...)
	p := open(t, m, clk, pool.WithWriteBehind())
	other := open(t, m, clk)
	writes := func() int { _, w := m.counts(); return w }
	start := writes()

	report(t, p, acquire(t, p, pool.Hint{}), rateLimited())
	report(t, p, acquire(t, p, pool.Hint{}), rateLimited())
	report(t, p, acquire(t, p, pool.Hint{}), success())
	if got := writes() - start; got != 0 {
		t.Fatalf("Report wrote %d times, want none before Flush", got)
	}
	if a, _ := other.Account(ctx, ids[0]); a.Availability != pool.Ready {
		t.Fatalf("another pool sees %v before Flush", a.Availability)
	}
	for range 2 {
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := writes() - start; got != 1 {
		t.Fatalf("two Flushes wrote %d times, want 1", got)
	}
	for _, id := range ids[:2] {
		if a, _ := other.Account(ctx, id); a.Availability != pool.Cooling {
			t.Errorf("another pool sees %s %v after Flush, want cooling", id.Label, a.Availability)
		}
	}

	report(t, p, acquire(t, p, pool.Hint{}), success())
	if err := p.Flush(ctx); err != nil || writes()-start != 1 {
		t.Fatalf("Flush with only counters not due: %v, %d writes, want 1", err, writes()-start)
	}
	clk.Advance(time.Minute)
	report(t, p, acquire(t, p, pool.Hint{}), success())
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := writes() - start; got != 2 {
		t.Fatalf("%d writes after the counters came due and Close, want 2", got)
	}
	accounts, err := other.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := uint64(0)
	for _, a := range accounts {
		total += a.Stats.Requests
	}
	if total != 5 {
		t.Errorf("another pool reads %d requests, want 5", total)
	}
}
