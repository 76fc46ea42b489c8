package usage

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

func newVault(t *testing.T) *vault.Vault {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Create(context.Background(), filepath.Join(t.TempDir(), "v"), []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestRecordersAddUp(t *testing.T) {
	ctx := context.Background()
	v := newVault(t)
	acct := records.ID{Provider: "anthropic", Namespace: "default", Label: "me@example.com"}
	seen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	// Two gateways on one vault, each flushing its own counts twice.
	a, b := NewRecorder(v), NewRecorder(v)
	for i := 0; i < 2; i++ {
		a.Record(Exchange{Account: acct, Client: "laptop", Status: 200, InputTokens: 10, OutputTokens: 5})
		b.Record(Exchange{Account: acct, Client: "ci", Status: 429})
		b.Record(Exchange{Client: "ci", Status: 401})
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h := http.Header{}
	h.Set("Anthropic-Ratelimit-Requests-Remaining", "59")
	h.Set("Anthropic-Ratelimit-Requests-Limit", "60")
	h.Set("Anthropic-Ratelimit-Unified-Status", "allowed")
	h.Set("Content-Type", "application/json")
	h.Set("X-Api-Key", "must-not-be-kept")
	b.SeeRateLimit(acct, h, seen)
	old := http.Header{}
	old.Set("Anthropic-Ratelimit-Requests-Remaining", "1")
	a.SeeRateLimit(acct, old, seen.Add(-time.Minute))
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(ctx); err != nil { // older: does not replace b's
		t.Fatal(err)
	}

	u, err := Read(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	want := &Usage{
		Accounts: map[string]*Account{acct.String(): {
			Counts: Counts{Requests: 4, InputTokens: 20, OutputTokens: 10, Statuses: map[string]int64{"200": 2, "429": 2}},
			RateLimit: &RateLimit{Seen: seen, Headers: map[string]string{
				"anthropic-ratelimit-requests-remaining": "59",
				"anthropic-ratelimit-requests-limit":     "60",
				"anthropic-ratelimit-unified-status":     "allowed",
			}},
		}},
		Clients: map[string]*Counts{
			"laptop": {Requests: 2, InputTokens: 20, OutputTokens: 10, Statuses: map[string]int64{"200": 2}},
			"ci":     {Requests: 4, Statuses: map[string]int64{"429": 2, "401": 2}},
		},
	}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Fatalf("usage (-want +got):\n%s", diff)
	}
	if got, want := u.Accounts[acct.String()].RateLimit.Remaining(), "requests 59/60, unified-status allowed"; got != want {
		t.Errorf("Remaining() = %q, want %q", got, want)
	}
}

func TestReadEmptyAndCorrupt(t *testing.T) {
	ctx := context.Background()
	v := newVault(t)
	u, err := Read(ctx, v)
	if err != nil || len(u.Accounts) != 0 || len(u.Clients) != 0 {
		t.Fatalf("empty vault: %+v, %v", u, err)
	}
	if _, err := v.UpdateState(ctx, StateName, func([]byte) ([]byte, error) { return []byte(`{"v":9}`), nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(ctx, v); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown version: %v, want ErrCorrupt", err)
	}
	// A recorder starts a corrupt blob afresh.
	r := NewRecorder(v)
	r.Record(Exchange{Client: "c", Status: 200})
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if u, err := Read(ctx, v); err != nil || u.Clients["c"].Requests != 1 {
		t.Fatalf("after flush: %+v, %v", u, err)
	}
}

func TestRemaining(t *testing.T) {
	cases := []struct {
		headers map[string]string
		want    string
	}{
		{nil, ""},
		{map[string]string{"x-ratelimit-remaining-requests": "9", "x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-tokens": "900"}, "requests 9/10, tokens 900"},
		{map[string]string{"x-codex-primary-used-percent": "42", "x-codex-secondary-used-percent": "7"}, "primary 42% used, secondary 7% used"},
	}
	for _, c := range cases {
		if got := (&RateLimit{Headers: c.headers}).Remaining(); got != c.want {
			t.Errorf("%v: %q, want %q", c.headers, got, c.want)
		}
	}
	if got := (*RateLimit)(nil).Remaining(); got != "" {
		t.Errorf("nil: %q", got)
	}
}
