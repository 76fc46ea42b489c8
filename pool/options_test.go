package pool_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/google/go-cmp/cmp"
)

func TestOpenErrors(t *testing.T) {
	broken := errors.New("disk on fire")
	tests := []struct {
		name  string
		key   pool.Key
		setup func(m *memVault)
		want  error
	}{
		{"invalid provider", pool.Key{Provider: "Anthropic", Namespace: "default"}, nil, records.ErrInvalidID},
		{"empty namespace", pool.Key{Provider: "anthropic"}, nil, records.ErrInvalidID},
		{"namespace with a slash", pool.Key{Provider: "anthropic", Namespace: "a/b"}, nil, records.ErrInvalidID},
		{"listing fails", testKey, func(m *memVault) { m.listErr = broken }, broken},
		{"state unreadable for a reason other than the blob", testKey, func(m *memVault) { m.readErr = broken }, broken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemVault()
			m.put(accts(1)...)
			if tt.setup != nil {
				tt.setup(m)
			}
			p, err := pool.Open(context.Background(), m.client(), tt.key)
			if !errors.Is(err, tt.want) || p != nil {
				t.Errorf("Open: %v, %v; want an error wrapping %v", p, err, tt.want)
			}
		})
	}
}

func TestKeyAndStateName(t *testing.T) {
	m, clk := newMemVault(), newClock()
	p := open(t, m, clk)
	if p.Key() != testKey || testKey.String() != "anthropic/default" {
		t.Errorf("Key() = %v", p.Key())
	}
	if got := pool.KeyOf(acct("x")); got != testKey {
		t.Errorf("KeyOf = %v", got)
	}
	names := map[string]bool{}
	for _, k := range []pool.Key{testKey, {Provider: "anthropic", Namespace: "work"}, {Provider: "openai", Namespace: "default"}, {Provider: "anthropic", Namespace: "défaut / é"}} {
		n := pool.StateName(k)
		if names[n] || !strings.HasPrefix(n, "pool.") || len(n) != len("pool.")+16 || strings.ContainsAny(n, "/\\ ") {
			t.Errorf("StateName(%v) = %q", k, n)
		}
		names[n] = true
	}
}

func TestWriteTimeout(t *testing.T) {
	tests := []struct {
		opt  time.Duration // 0: no option
		want time.Duration
	}{
		{0, pool.DefaultWriteTimeout},
		{3 * time.Second, 3 * time.Second},
		{-time.Second, pool.DefaultWriteTimeout},
	}
	for _, tt := range tests {
		d := tt.want
		m, clk := newMemVault(), newClock()
		m.put(accts(2)...)
		opts := []pool.Option{pool.WithClock(clk.Now)}
		if tt.opt != 0 {
			opts = append(opts, pool.WithWriteTimeout(tt.opt))
		}
		p, err := pool.Open(context.Background(), m.client(), testKey, opts...)
		if err != nil {
			t.Fatal(err)
		}
		m.budgets = nil
		report(t, p, acquire(t, p, pool.Hint{}), rateLimited())
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if len(m.budgets) == 0 {
			t.Fatalf("timeout %v: no write", d)
		}
		for _, b := range m.budgets {
			if b <= 0 || b > d {
				t.Errorf("timeout %v: a write was given %v", d, b)
			}
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{pool.Success.String(), "success"},
		{pool.RateLimited.String(), "rate-limited"},
		{pool.QuotaExhausted.String(), "quota-exhausted"},
		{pool.AuthRejected.String(), "auth-rejected"},
		{pool.NeedsReauth.String(), "needs-reauth"},
		{pool.Fatal.String(), "fatal"},
		{pool.Overloaded.String(), "overloaded"},
		{pool.Transient.String(), "transient"},
		{pool.OutcomeKind(42).String(), "OutcomeKind(42)"},
		{pool.Ready.String(), "ready"},
		{pool.Cooling.String(), "cooling"},
		{pool.ReauthNeeded.String(), "needs re-authentication"},
		{pool.Disabled.String(), "disabled"},
		{pool.Availability(-1).String(), "Availability(-1)"},
		{pool.Strategy(9).String(), "Strategy(9)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestOutcomeKindText(t *testing.T) {
	for k := pool.Success; k <= pool.RecordUnreadable; k++ {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back pool.OutcomeKind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%v: round trip gave %v, %v", k, back, err)
		}
	}
	if _, err := pool.OutcomeKind(9).MarshalText(); err == nil {
		t.Error("MarshalText of an unknown kind: no error")
	}
	var k pool.OutcomeKind
	if err := k.UnmarshalText([]byte("Success")); err == nil {
		t.Error("UnmarshalText is case-insensitive")
	}
}

func TestStateErrorMessage(t *testing.T) {
	name := pool.StateName(testKey)
	tests := []struct {
		err  *pool.StateError
		want string
	}{
		{&pool.StateError{Key: testKey, Name: name, Op: "read", Err: pool.ErrCorruptState},
			`pool anthropic/default: read state "` + name + `": pool state is corrupt (starting from a clean pool state; the credentials are untouched)`},
		{&pool.StateError{Key: testKey, Name: name, Op: "read", Err: pool.ErrNewerState},
			`pool anthropic/default: read state "` + name + `": pool state was written by a newer version`},
		{&pool.StateError{Key: testKey, Name: name, Op: "write", Err: context.DeadlineExceeded},
			`pool anthropic/default: write state "` + name + `": context deadline exceeded`},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if !errors.Is(tt.err, tt.err.Err) {
			t.Errorf("%v does not unwrap", tt.err)
		}
	}
}
