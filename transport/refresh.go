package transport

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/authvault/authvault/adapters"
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
	return !exp.IsZero() && !t.cfg.now().Add(t.cfg.skew).Before(exp)
}

// refreshable reports whether rec has something to refresh with.
func (t *Transport) refreshable(rec *records.Record) bool {
	return rec.OAuth != nil && !rec.OAuth.Refresh.IsZero()
}

// refresh obtains a fresh token for id, exactly once across goroutines
// (singleflight) and processes (the vault's per-record lock). Inside the
// lock the record is read again: a token another process refreshed while
// this one waited is adopted without a network call, so a single-use
// refresh token is never sent twice.
func (t *Transport) refresh(ctx context.Context, id records.ID, stale *records.Record) (*records.Record, error) {
	ch := t.flight.DoChan(id.String(), func() (any, error) {
		// Detached from the caller: a refresh whose answer holds the only
		// copy of the next refresh token must be stored even if the
		// request that started it is cancelled.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.refreshTimeout)
		defer cancel()
		rec, adopted, err := t.refreshLocked(rctx, id, stale)
		e := Event{Kind: EventRefresh, Time: t.cfg.now(), Account: id, Adopted: adopted, Err: err, Context: ctx}
		t.cfg.observer.Observe(e)
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

func (t *Transport) refreshLocked(ctx context.Context, id records.ID, stale *records.Record) (*records.Record, bool, error) {
	unlock, err := t.vault.LockRecord(ctx, id)
	if err != nil {
		return nil, false, fmt.Errorf("authvault: refresh lock for %s: %w", id, err)
	}
	defer unlock()
	cur, err := t.vault.GetLatest(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if cur.OAuth != nil && stale.OAuth != nil && cur.OAuth.Access != stale.OAuth.Access && !t.needsRefresh(cur) {
		return cur, true, nil
	}
	fresh, err := t.adapter.Refresh(ctx, t.cfg.refreshClient, cur)
	err = adapters.ScrubRefreshError(err, adapters.RecordCredentials(cur))
	if err != nil {
		if errors.Is(err, adapters.ErrNotRefreshable) {
			return nil, false, &adapters.RefreshError{Provider: id.Provider, Code: "not_refreshable", Permanent: true, Err: err}
		}
		return nil, false, err
	}
	if fresh == nil || fresh.OAuth == nil {
		return nil, false, fmt.Errorf("authvault: %s adapter returned no token", id.Provider)
	}
	stored, err := t.vault.Update(ctx, id, func(r *records.Record) error {
		r.OAuth = fresh.Clone().OAuth
		if len(fresh.Meta) > 0 {
			if r.Meta == nil {
				r.Meta = map[string]string{}
			}
			maps.Copy(r.Meta, fresh.Meta)
		}
		return nil
	})
	if err != nil {
		// The provider issued new tokens that could not be stored: the old
		// refresh token may now be dead. Say so loudly.
		return nil, false, fmt.Errorf("authvault: refreshed %s but could not store the new token: %w", id, err)
	}
	return stored, false, nil
}
