package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// needsRefresh reports whether rec's token expires within the skew.
func (t *Transport) needsRefresh(rec *records.Record) bool {
	if rec.OAuth == nil || !t.refreshable(rec) {
		return false
	}
	if rec.OAuth.Access.IsZero() {
		return true
	}
	exp := rec.OAuth.Expiry
	return !exp.IsZero() && !t.pool.Now().Add(t.cfg.skew).Before(exp)
}

// refreshable reports whether rec has something to refresh with.
func (t *Transport) refreshable(rec *records.Record) bool {
	return rec.OAuth != nil && !rec.OAuth.Refresh.IsZero()
}

// refresh obtains a fresh token for the lease's account, exactly once
// across goroutines (singleflight) and processes (the lease's refresh,
// under the record lock every process shares). Inside the lock the record
// is read again: a token another process refreshed while this one waited
// is adopted without a network call, so a single-use refresh token is
// never sent twice.
func (t *Transport) refresh(ctx context.Context, lease *pool.Lease, stale *records.Record) (*records.Record, error) {
	id := lease.ID
	ch := t.flight.DoChan(id.String(), func() (any, error) {
		// Detached from the caller: a refresh whose answer holds the only
		// copy of the next refresh token must be stored even if the
		// request that started it is cancelled.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.refreshTimeout)
		defer cancel()
		rec, adopted, err := lease.Refresh(rctx, func(ctx context.Context, cur *records.Record) (*records.Record, error) {
			return t.fresh(ctx, id, stale, cur)
		})
		t.observe(Event{Kind: EventRefresh, Time: t.pool.Now(), Account: id, Adopted: adopted, Err: err, Context: ctx})
		return rec, err
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*records.Record).Clone(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fresh returns the token to store for id, asking the provider, or nil
// when cur, the record as last committed, holds a token another process
// refreshed since stale was read.
func (t *Transport) fresh(ctx context.Context, id records.ID, stale, cur *records.Record) (*records.Record, error) {
	if cur.OAuth != nil && stale.OAuth != nil && cur.OAuth.Access != stale.OAuth.Access && !t.needsRefresh(cur) {
		return nil, nil
	}
	fresh, err := t.adapter.Refresh(ctx, t.cfg.refreshClient, cur)
	err = adapters.ScrubRefreshError(err, adapters.RecordCredentials(cur))
	if errors.Is(err, adapters.ErrNotRefreshable) {
		return nil, &adapters.RefreshError{Provider: id.Provider, Code: "not_refreshable", Permanent: true, Err: err}
	}
	if err != nil {
		return nil, err
	}
	if fresh == nil || fresh.OAuth == nil {
		return nil, fmt.Errorf("authvault: %s adapter returned no token", id.Provider)
	}
	return fresh, nil
}
