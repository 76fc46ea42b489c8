package pool_test

import (
	"context"
	"errors"
	"testing"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// Lease.Refresh hands the record as last committed to the refresh,
// stores the token it returns (merging its Meta), keeps the record when
// the refresh returns nil, and stores nothing when it fails.
func TestLeaseRefresh(t *testing.T) {
	ctx := context.Background()
	m, clk := newMemVault(), newClock()
	id := acct("a")
	m.put(id)
	m.mu.Lock()
	r := m.records[id]
	r.Kind, r.API = records.KindOAuth, nil
	r.OAuth = &records.OAuth{Access: "old-access", Refresh: "old-refresh"}
	r.Meta = map[string]string{"plan": "pro"}
	m.mu.Unlock()
	p := open(t, m, clk)
	l := acquire(t, p, pool.Hint{})

	var saw *records.Record
	got, kept, err := l.Refresh(ctx, func(_ context.Context, cur *records.Record) (*records.Record, error) {
		saw = cur
		return &records.Record{OAuth: &records.OAuth{Access: "new-access", Refresh: "new-refresh"}, Meta: map[string]string{"region": "eu"}}, nil
	})
	if err != nil || kept {
		t.Fatalf("Refresh: kept %v, %v", kept, err)
	}
	if saw.OAuth.Access != "old-access" {
		t.Error("the refresh did not see the committed record")
	}
	stored, _ := m.client().Get(ctx, id)
	for _, rec := range []*records.Record{got, stored} {
		if rec.OAuth.Access != "new-access" || rec.OAuth.Refresh != "new-refresh" || rec.Meta["plan"] != "pro" || rec.Meta["region"] != "eu" {
			t.Errorf("record after Refresh: new token %v, meta %v", rec.OAuth.Access == "new-access", rec.Meta)
		}
	}

	got, kept, err = l.Refresh(ctx, func(context.Context, *records.Record) (*records.Record, error) { return nil, nil })
	if err != nil || !kept || got.OAuth.Access != "new-access" {
		t.Fatalf("Refresh returning nil: kept %v, %v", kept, err)
	}

	dead := errors.New("invalid_grant")
	if _, _, err := l.Refresh(ctx, func(context.Context, *records.Record) (*records.Record, error) { return nil, dead }); !errors.Is(err, dead) {
		t.Fatalf("failed refresh: %v, want %v", err, dead)
	}
	if _, _, err := l.Refresh(ctx, func(context.Context, *records.Record) (*records.Record, error) { return &records.Record{}, nil }); err == nil {
		t.Fatal("a refresh without a token: no error")
	}
	if stored, _ := m.client().Get(ctx, id); stored.OAuth.Access != "new-access" {
		t.Error("failed refreshes changed the record")
	}
}
