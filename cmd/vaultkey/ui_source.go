package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/usage"
	"github.com/authvault/authvault/vault"
)

// uiSource is what the ui reads and changes: the vault, a pool for each
// provider and namespace in it (kept open, so a refresh costs a stat when
// nothing changed), and the event log. Every change goes through the
// same vault and pool calls as the accounts commands. It is used from
// the ui's commands, which run concurrently.
type uiSource struct {
	v        *vault.Vault
	poolOpts []pool.Option

	mu       sync.Mutex
	pools    map[pool.Key]*pool.Pool
	follower *eventlog.Follower
}

func newUISource(v *vault.Vault, poolOpts ...pool.Option) *uiSource {
	return &uiSource{v: v, poolOpts: poolOpts, pools: map[pool.Key]*pool.Pool{}, follower: eventlog.NewFollower(v)}
}

// uiAccount is one account as the ui shows it.
type uiAccount struct {
	pool.Account
	Kind records.Kind
	// Usage is what gateways recorded of the account, nil when nothing.
	Usage *usage.Account
}

// uiPool is one provider+namespace and its accounts in pool order.
type uiPool struct {
	Key      pool.Key
	Accounts []uiAccount
}

// uiSnapshot is one reading of the vault.
type uiSnapshot struct {
	Pools  []uiPool
	Events []eventlog.Entry // written since the last reading
	Err    error            // the first problem met; the rest is still read
}

// load reads every pool's accounts and the new events.
func (s *uiSource) load(ctx context.Context) uiSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap uiSnapshot
	fail := func(err error) {
		if snap.Err == nil {
			snap.Err = err
		}
	}
	entries, err := s.v.List(ctx, vault.Filter{})
	if err != nil {
		fail(err)
	}
	entries = withoutClients(entries)
	kinds, keys := kindsAndPools(entries)
	if err == nil {
		for k, p := range s.pools {
			if !slices.Contains(keys, k) {
				p.Close()
				delete(s.pools, k)
			}
		}
	}
	used, err := usage.Read(ctx, s.v)
	if err != nil {
		fail(fmt.Errorf("reading the usage: %w", err))
	}
	for _, k := range keys {
		p, err := s.poolLocked(ctx, k)
		if err != nil {
			fail(err)
			continue
		}
		accts, err := p.Accounts(ctx)
		if err == nil && !sameAccounts(accts, k, kinds) {
			// The vault changed since the pool last listed it: list now.
			if err = p.Refresh(ctx); err == nil {
				accts, err = p.Accounts(ctx)
			}
		}
		if err != nil {
			fail(fmt.Errorf("pool %s: %w", k, err))
			continue
		}
		up := uiPool{Key: k}
		for _, a := range accts {
			ua := uiAccount{Account: a, Kind: kinds[a.ID]}
			if used != nil {
				ua.Usage = used.Accounts[a.ID.String()]
			}
			up.Accounts = append(up.Accounts, ua)
		}
		snap.Pools = append(snap.Pools, up)
	}
	if snap.Events, err = s.follower.Next(ctx); err != nil {
		fail(fmt.Errorf("reading the event log: %w", err))
	}
	return snap
}

// sameAccounts reports whether accts are the accounts of pool k that the
// vault listing kinds holds.
func sameAccounts(accts []pool.Account, k pool.Key, kinds map[records.ID]records.Kind) bool {
	n := 0
	for id := range kinds {
		if pool.KeyOf(id) == k {
			n++
		}
	}
	if n != len(accts) {
		return false
	}
	for _, a := range accts {
		if _, ok := kinds[a.ID]; !ok {
			return false
		}
	}
	return true
}

func (s *uiSource) poolLocked(ctx context.Context, k pool.Key) (*pool.Pool, error) {
	if p := s.pools[k]; p != nil {
		return p, nil
	}
	p, err := pool.Open(ctx, s.v, k, s.poolOpts...)
	if err != nil {
		return nil, fmt.Errorf("pool %s: %w", k, err)
	}
	s.pools[k] = p
	return p, nil
}

// change applies fn to the pool of id's account, as the accounts
// commands do, and writes the pool state.
func (s *uiSource) change(ctx context.Context, id records.ID, fn func(p *pool.Pool, a pool.Account) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.poolLocked(ctx, pool.KeyOf(id))
	if err != nil {
		return err
	}
	a, err := p.Account(ctx, id)
	if errors.Is(err, pool.ErrUnknownAccount) {
		return noAccount(id)
	}
	if err != nil {
		return err
	}
	if err := fn(p, a); err != nil {
		return err
	}
	if err := p.Flush(ctx); err != nil {
		return fmt.Errorf("writing the pool state: %w", err)
	}
	return nil
}

// disable takes the account out of service (accounts disable).
func (s *uiSource) disable(ctx context.Context, id records.ID, reason string) error {
	return s.change(ctx, id, func(p *pool.Pool, _ pool.Account) error { return p.Disable(ctx, id, reason) })
}

// enable puts it back (accounts enable).
func (s *uiSource) enable(ctx context.Context, id records.ID) error {
	return s.change(ctx, id, func(p *pool.Pool, _ pool.Account) error { return p.Enable(ctx, id) })
}

// reset ends its cooldowns and clears its needs-re-auth flag (accounts
// reset).
func (s *uiSource) reset(ctx context.Context, id records.ID) error {
	return s.change(ctx, id, func(p *pool.Pool, a pool.Account) error {
		if err := p.Reset(ctx, id); err != nil {
			return err
		}
		if a.NeedsReauth {
			return p.ClearNeedsReauth(ctx, id)
		}
		return nil
	})
}

// move puts it at position to, from 0 (accounts move --to to+1).
func (s *uiSource) move(ctx context.Context, id records.ID, to int) error {
	return s.change(ctx, id, func(p *pool.Pool, _ pool.Account) error { return p.Move(ctx, id, to) })
}

// remove deletes the account and its credential (accounts rm).
func (s *uiSource) remove(ctx context.Context, id records.ID) error {
	if err := s.v.Delete(ctx, id); err != nil {
		if errors.Is(err, vault.ErrNotFound) {
			return noAccount(id)
		}
		return err
	}
	return nil
}

// addKey adds an account with the API key key (accounts add-key).
func (s *uiSource) addKey(ctx context.Context, id records.ID, key []byte) error {
	if len(key) == 0 {
		return errors.New("the API key is empty")
	}
	if strings.IndexFunc(string(key), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return errors.New("the API key holds white space or control characters: give only the key")
	}
	rec := &records.Record{
		Provider: id.Provider, Namespace: id.Namespace, Label: id.Label,
		Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(key)},
	}
	return s.v.Batch(ctx, func(b *vault.Batch) error {
		if _, err := b.Get(id); err == nil {
			return fmt.Errorf("account %s already exists: remove it first", id)
		} else if !errors.Is(err, vault.ErrNotFound) {
			return err
		}
		return b.Put(rec)
	})
}

// record reads one account's record, for its details.
func (s *uiSource) record(ctx context.Context, id records.ID) (*records.Record, error) {
	return s.v.Get(ctx, id)
}

// close closes the pools, writing their counters.
func (s *uiSource) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for k, p := range s.pools {
		errs = append(errs, p.Close())
		delete(s.pools, k)
	}
	return errors.Join(errs...)
}
