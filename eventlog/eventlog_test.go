package eventlog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelper())
	}
	goleak.VerifyTestMain(m)
}

var key = pool.Key{Provider: "acme", Namespace: "default"}

func id(label string) records.ID {
	return records.ID{Provider: "acme", Namespace: "default", Label: label}
}

type testVault struct {
	dir string
	id  *age.X25519Identity
}

func newVault(t *testing.T) *testVault {
	t.Helper()
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	tv := &testVault{dir: filepath.Join(t.TempDir(), "vault"), id: ident}
	v, err := vault.Create(context.Background(), tv.dir, []age.Recipient{ident.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	return tv
}

// open opens a handle on the vault, as another process would.
func (tv *testVault) open(t *testing.T) *vault.Vault {
	t.Helper()
	v, err := vault.Open(context.Background(), tv.dir, []age.Identity{tv.id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestObserveWritesEveryKindButAttempts(t *testing.T) {
	v := newVault(t).open(t)
	l := eventlog.New(v, key)
	refreshErr := &adapters.RefreshError{Provider: "acme", Status: 400, Code: "invalid_grant", Permanent: true,
		Err: errors.New(`body {"refresh_token":"rt-secret-123"}`)}
	events := []transport.Event{
		{Kind: transport.EventAttempt, Time: t0, Account: id("one"), Attempt: 1},
		{Kind: transport.EventCooldown, Time: t0, Account: id("one"), Status: 429, Reason: "rate_limit_error", Until: t0.Add(30 * time.Second)},
		{Kind: transport.EventRotate, Time: t0, Account: id("two"), From: id("one"), Status: 429, Reason: "rate_limit_error"},
		{Kind: transport.EventRefresh, Time: t0, Account: id("two")},
		{Kind: transport.EventRefresh, Time: t0, Account: id("two"), Adopted: true},
		{Kind: transport.EventRefresh, Time: t0, Account: id("two"), Err: refreshErr},
		{Kind: transport.EventRefresh, Time: t0, Account: id("two"), Err: errors.New("dial tcp: secret-ish text")},
		{Kind: transport.EventDisabled, Time: t0, Account: id("two"), Status: 401, Reason: "authentication_error"},
		{Kind: transport.EventUnreadable, Time: t0, Account: id("three"), Reason: "tampered"},
		{Kind: transport.EventExhausted, Time: t0, Until: t0.Add(20 * time.Second), Reason: "pool acme/default: every account is cooling"},
	}
	for _, e := range events {
		l.Observe(e)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := eventlog.NewFollower(v).Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind    eventlog.Kind
		summary string
	}{
		{eventlog.Cooldown, "one cooling 30s (429 rate_limit_error)"},
		{eventlog.Rotate, "one → two (429 rate_limit_error)"},
		{eventlog.Refresh, "two token refreshed"},
		{eventlog.Refresh, "two token refreshed (by another process)"},
		{eventlog.RefreshFailed, "two token refresh failed (400 invalid_grant)"},
		{eventlog.RefreshFailed, "two token refresh failed (error)"},
		{eventlog.OutOfService, "two out of service (401 authentication_error)"},
		{eventlog.Unreadable, "three unreadable, skipped (tampered)"},
		{eventlog.Exhausted, "no account can serve; the soonest is ready in 20s"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Seq != uint64(i+1) || e.Kind != w.kind || e.Summary() != w.summary || e.Pool != "acme/default" || !e.Time.Equal(t0) {
			t.Errorf("entry %d: %+v (summary %q), want kind %s summary %q", i, e, e.Summary(), w.kind, w.summary)
		}
	}
	b, _ := json.Marshal(got)
	for _, bad := range []string{"rt-secret-123", "secret-ish", "body"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("the log holds %q: %s", bad, b)
		}
	}
}

func TestKeepsTheLastMax(t *testing.T) {
	v := newVault(t).open(t)
	l := eventlog.New(v, key)
	ctx := context.Background()
	for i := range eventlog.Max + 100 {
		l.Observe(transport.Event{Kind: transport.EventCooldown, Time: t0.Add(time.Duration(i) * time.Second), Account: id("one"), Status: 429})
		if i%150 == 0 {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := eventlog.NewFollower(v).Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != eventlog.Max || got[0].Seq != 101 || got[len(got)-1].Seq != eventlog.Max+100 {
		t.Fatalf("kept %d entries, seq %d to %d", len(got), got[0].Seq, got[len(got)-1].Seq)
	}
	if !got[0].Time.Equal(t0.Add(100 * time.Second)) {
		t.Fatalf("oldest kept is from %v", got[0].Time)
	}
}

func TestWritesBehindWithoutClose(t *testing.T) {
	v := newVault(t).open(t)
	l := eventlog.New(v, key)
	defer l.Close()
	waiting := make(chan time.Duration, 1)
	fire := make(chan time.Time)
	eventlog.SetAfter(l, func(d time.Duration) <-chan time.Time {
		waiting <- d
		return fire
	})
	f := eventlog.NewFollower(v)
	l.Observe(transport.Event{Kind: transport.EventRotate, Time: t0, Account: id("two"), From: id("one"), Status: 429})
	if d := <-waiting; d != eventlog.WriteDelay {
		t.Fatalf("the writer waits %v, want %v", d, eventlog.WriteDelay)
	}
	done := eventlog.WriterDone(l)
	// Nothing is written before the delay has passed.
	if got, err := f.Next(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("before the delay: %+v, %v", got, err)
	}
	fire <- t0
	<-done
	got, err := f.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != eventlog.Rotate {
		t.Fatalf("follower got %+v", got)
	}
}

func TestFollowerReturnsOnlyNewEntries(t *testing.T) {
	tv := newVault(t)
	v := tv.open(t)
	ctx := context.Background()
	l := eventlog.New(v, key)
	f := eventlog.NewFollower(tv.open(t))
	if got, err := f.Next(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty log: %v %v", got, err)
	}
	write := func(labels ...string) {
		for _, lb := range labels {
			l.Observe(transport.Event{Kind: transport.EventRefresh, Time: t0, Account: id(lb)})
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	next := func() []string {
		got, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range got {
			out = append(out, strings.TrimPrefix(e.Account, e.Pool+"/"))
		}
		return out
	}
	write("a", "b")
	if got := next(); !cmp.Equal(got, []string{"a", "b"}) {
		t.Fatalf("first: %v", got)
	}
	if got := next(); got != nil {
		t.Fatalf("unchanged: %v", got)
	}
	write("c")
	if got := next(); !cmp.Equal(got, []string{"c"}) {
		t.Fatalf("after c: %v", got)
	}
	// The log is lost and started afresh: its entries are new ones.
	if err := v.DeleteState(ctx, eventlog.StateName); err != nil {
		t.Fatal(err)
	}
	write("d")
	if got := next(); !cmp.Equal(got, []string{"d"}) {
		t.Fatalf("after a fresh start: %v", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedLogs(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		blob     string
		readErr  error
		writeErr error // nil: the write starts the log afresh
	}{
		{"not json", "{", eventlog.ErrCorrupt, nil},
		{"old version", `{"v":0,"seq":0,"entries":[]}`, eventlog.ErrCorrupt, nil},
		{"unknown field", `{"v":1,"seq":1,"entries":[{"seq":1,"time":"2026-03-01T12:00:00Z","kind":"rotate","pool":"a/b","body":"x"}]}`, eventlog.ErrCorrupt, nil},
		{"sequence going back", `{"v":1,"seq":3,"entries":[{"seq":2,"time":"2026-03-01T12:00:00Z","kind":"rotate","pool":"a/b"},{"seq":2,"time":"2026-03-01T12:00:00Z","kind":"rotate","pool":"a/b"}]}`, eventlog.ErrCorrupt, nil},
		{"sequence past the last", `{"v":1,"seq":1,"entries":[{"seq":2,"time":"2026-03-01T12:00:00Z","kind":"rotate","pool":"a/b"}]}`, eventlog.ErrCorrupt, nil},
		{"trailing data", `{"v":1,"seq":0,"entries":[]} {}`, eventlog.ErrCorrupt, nil},
		{"newer version", `{"v":2}`, eventlog.ErrNewer, eventlog.ErrNewer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVault(t).open(t)
			if _, err := v.UpdateState(ctx, eventlog.StateName, func([]byte) ([]byte, error) { return []byte(tc.blob), nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := eventlog.NewFollower(v).Next(ctx); !errors.Is(err, tc.readErr) {
				t.Fatalf("Read: %v, want %v", err, tc.readErr)
			}
			l := eventlog.New(v, key)
			l.Observe(transport.Event{Kind: transport.EventRefresh, Time: t0, Account: id("one")})
			err := l.Close()
			if !errors.Is(err, tc.writeErr) {
				t.Fatalf("Close: %v, want %v", err, tc.writeErr)
			}
			if tc.writeErr != nil {
				b, _, _ := v.ReadState(ctx, eventlog.StateName)
				if string(b) != tc.blob {
					t.Fatalf("a newer log was overwritten: %s", b)
				}
				return
			}
			got, err := eventlog.NewFollower(v).Next(ctx)
			if err != nil || len(got) != 1 || got[0].Seq != 1 {
				t.Fatalf("after the write: %+v, %v", got, err)
			}
		})
	}
}

func TestTamperedLogIsAnError(t *testing.T) {
	tv := newVault(t)
	v := tv.open(t)
	ctx := context.Background()
	l := eventlog.New(v, key)
	l.Observe(transport.Event{Kind: transport.EventRefresh, Time: t0, Account: id("one")})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(tv.dir, "state", "*.avs"))
	if err != nil || len(files) != 1 {
		t.Fatalf("state files %v %v", files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(files[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Damage is found by the vault: the blob's seal, or its file's framing.
	if _, err := eventlog.NewFollower(tv.open(t)).Next(ctx); !errors.Is(err, vault.ErrTampered) && !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("Read of a tampered log: %v", err)
	}
}

func TestReasonsAreCleaned(t *testing.T) {
	v := newVault(t).open(t)
	l := eventlog.New(v, key)
	l.Observe(transport.Event{Kind: transport.EventDisabled, Time: t0, Account: id("one"), Reason: "bad\x1b[2J\nline" + strings.Repeat("é", 200)})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := eventlog.NewFollower(v).Next(context.Background())
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	r := got[0].Reason
	if strings.ContainsAny(r, "\x1b\n") || len(r) > 130 || !strings.HasPrefix(r, "bad [2J line") || !strings.HasSuffix(r, "…") {
		t.Fatalf("reason %q", r)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Millisecond:                 "1s",
		30 * time.Second:                 "30s",
		185 * time.Second:                "3m05s",
		2*time.Hour + 10*time.Minute + 1: "2h10m",
	} {
		if got := eventlog.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

const helperEnv = "EVENTLOG_TEST_HELPER"

// runHelper is another process writing to the log: it observes the
// events its arguments ask for (label and count) and closes its log.
func runHelper() int {
	parts := strings.Split(os.Getenv(helperEnv), "|")
	ident, err := age.ParseX25519Identity(parts[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	v, err := vault.Open(context.Background(), parts[0], []age.Identity{ident})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer v.Close()
	n, _ := strconv.Atoi(parts[3])
	l := eventlog.New(v, key)
	for range n {
		l.Observe(transport.Event{Kind: transport.EventCooldown, Time: time.Now(), Account: id(parts[2]), Status: 429})
	}
	if err := l.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestProcessesShareOneSequence(t *testing.T) {
	tv := newVault(t)
	const per = 40
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, label := range []string{"p1", "p2", "p3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join([]string{tv.dir, tv.id.String(), label, strconv.Itoa(per)}, "|"))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("%s: %v: %s", label, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := eventlog.NewFollower(tv.open(t)).Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
		count[strings.TrimPrefix(e.Account, e.Pool+"/")]++
	}
	if len(got) != 3*per || count["p1"] != per || count["p2"] != per || count["p3"] != per {
		t.Fatalf("%d entries: %v", len(got), count)
	}
}

// BenchmarkObserve is what the log costs a request: the transport calls
// Observe on the request's goroutine. Attempts are dropped at once; the
// others are queued for the writer.
func BenchmarkObserve(b *testing.B) {
	for _, kind := range []transport.EventKind{transport.EventAttempt, transport.EventCooldown} {
		b.Run(kind.String(), func(b *testing.B) {
			ident, err := age.GenerateX25519Identity()
			if err != nil {
				b.Fatal(err)
			}
			dir := filepath.Join(b.TempDir(), "vault")
			v, err := vault.Create(context.Background(), dir, []age.Recipient{ident.Recipient()})
			if err != nil {
				b.Fatal(err)
			}
			defer v.Close()
			l := eventlog.New(v, key)
			e := transport.Event{Kind: kind, Time: t0, Account: id("one"), Status: 429, Reason: "rate_limit_error", Until: t0.Add(time.Minute)}
			b.ReportAllocs()
			for b.Loop() {
				l.Observe(e)
			}
			b.StopTimer()
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
