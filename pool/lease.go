package pool

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// Hint tells Acquire about the request an account is wanted for.
type Hint struct {
	// Session keeps a conversation on one account while that account is
	// ready, for an hour after its last use: the provider's prompt cache
	// for it stays warm. Empty: no affinity.
	Session string
	// Model is the model the request is for. A pool that cools accounts
	// per model skips those cooling down for this model.
	Model string
}

// Lease is one account handed out for one request. Report its outcome
// with Pool.Report: the pool then blames this account, whichever account
// is current by then.
type Lease struct {
	// ID is the account the request must be sent with.
	ID records.ID
	// Acquired is when the lease was handed out.
	Acquired time.Time
	// Window is the account's cooldown window generation when the lease
	// was handed out. A rate limit reported on a lease older than the
	// account's current window is part of the burst that opened it and
	// does not escalate the backoff again.
	Window uint64
	// Model and Session are the hint the lease was acquired with.
	Model   string
	Session string

	pool *Pool
	acct *account
}

// Record returns a copy of the leased account's credential, read through
// the vault (for *vault.Vault, from its decrypted cache while the file is
// unchanged). The record is fetched here, not by Acquire, so that choosing
// an account costs the same for ten accounts or ten thousand and a lease
// never carries a credential its holder did not ask for. Each call reads
// again: after a refresh it returns the refreshed token.
//
// A record deleted since the lease was handed out returns
// vault.ErrNotFound, and the pool lists the vault again on the next
// Acquire.
func (l *Lease) Record(ctx context.Context) (*records.Record, error) {
	r, err := l.pool.store.Get(ctx, l.ID)
	if errors.Is(err, vault.ErrNotFound) {
		l.pool.mu.Lock()
		l.pool.relistNow = true
		l.pool.mu.Unlock()
	}
	return r, err
}

// Refresh replaces the leased account's token exactly once across
// processes. It holds the account's record lock, which every process
// shares, reads the record as last committed and calls refresh with it.
// refresh returns the fresh record, whose OAuth token and Meta entries are
// stored in the account's record, or nil to keep cur: another process
// refreshed the token while this one waited for the lock, and a
// single-use refresh token must not be sent twice. Refresh returns the
// record as stored, and whether cur was kept.
func (l *Lease) Refresh(ctx context.Context, refresh func(ctx context.Context, cur *records.Record) (*records.Record, error)) (*records.Record, bool, error) {
	store := l.pool.store
	unlock, err := store.LockRecord(ctx, l.ID)
	if err != nil {
		return nil, false, fmt.Errorf("pool %s: refresh lock for %s: %w", l.pool.key, l.ID, err)
	}
	defer unlock()
	cur, err := store.GetLatest(ctx, l.ID)
	if err != nil {
		return nil, false, err
	}
	fresh, err := refresh(ctx, cur)
	switch {
	case err != nil:
		return nil, false, err
	case fresh == nil:
		return cur, true, nil
	case fresh.OAuth == nil:
		return nil, false, fmt.Errorf("pool %s: refreshing %s returned no token", l.pool.key, l.ID)
	}
	stored, err := store.Update(ctx, l.ID, func(r *records.Record) error {
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
		// The provider issued new tokens that could not be stored: the
		// old refresh token may now be dead. Say so loudly.
		return nil, false, fmt.Errorf("pool %s: refreshed %s but could not store the new token: %w", l.pool.key, l.ID, err)
	}
	return stored, false, nil
}

// Acquire returns a lease on the account that should serve the next
// request: the session's account if the hint names a session bound to a
// ready account, else the one the strategy picks among the ready accounts.
// It fails with an error wrapping ErrNoAccounts when the vault holds no
// account for the pool's key, and with an *ExhaustedError when none is
// ready.
//
// Acquire notices, at the cost of one stat, a pool state another process
// changed, and re-reads it before choosing: a cooldown reported anywhere
// on the machine is honoured at once.
func (p *Pool) Acquire(ctx context.Context, hint Hint) (*Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := p.Now()
	if err := p.lockOpen(); err != nil {
		return nil, err
	}
	p.sync(ctx, now)
	var (
		l   *Lease
		err error
	)
	if a, bound := p.choose(hint, now); a != nil {
		l = p.lease(a, hint, bound, now)
	} else {
		err = p.exhausted(hint.Model, now)
	}
	// Membership changes found while syncing are written here, or by the
	// next Flush when the pool writes behind. Ops that a write in flight
	// carries are its writer's business: never wait for it.
	save := len(p.pending) > 0 && !p.writing && !now.Before(p.retryAt) && !p.cfg.writeBehind
	p.unlock()
	if save {
		// A failure is reported through Health and retried later.
		_ = p.persist(ctx, false)
	}
	return l, err
}

// available reports whether a can serve a request for model now.
func (p *Pool) available(a *account, model string, now time.Time) bool {
	av, _ := p.availability(a, model, now)
	return av == Ready
}

// choose returns the account for the next request, and whether it is the
// session's bound account rather than the strategy's pick.
func (p *Pool) choose(hint Hint, now time.Time) (*account, bool) {
	if hint.Session != "" && p.cfg.affinityTTL > 0 {
		if b, ok := p.sessions[hint.Session]; ok && b.expires.After(now) && !b.a.gone && p.available(b.a, hint.Model, now) {
			return b.a, true
		}
	}
	switch p.cfg.strategy {
	case RoundRobin:
		return p.scan(p.rr+1, hint.Model, now), false
	case LeastRecentlyUsed:
		return p.leastRecentlyUsed(hint.Model, now), false
	default:
		return p.scan(0, hint.Model, now), false
	}
}

// scan returns the first available account at or after position start,
// wrapping around once. Pools hold a handful to a few hundred accounts: a
// look at each is cheaper than keeping an index of the ready ones.
func (p *Pool) scan(start int, model string, now time.Time) *account {
	n := len(p.accounts)
	if start >= n || start < 0 {
		start = 0
	}
	for i := range n {
		if a := p.accounts[(start+i)%n]; p.available(a, model, now) {
			return a
		}
	}
	return nil
}

// leastRecentlyUsed returns the available account used longest ago: by
// time, whichever process used it, then by this process's order of uses
// (for uses within one clock tick), then by position.
func (p *Pool) leastRecentlyUsed(model string, now time.Time) *account {
	var best *account
	for _, a := range p.accounts {
		if !p.available(a, model, now) {
			continue
		}
		if best == nil {
			best = a
			continue
		}
		if c := a.lastUse().Compare(best.lastUse()); c < 0 || c == 0 && a.useSeq < best.useSeq {
			best = a
		}
	}
	return best
}

func (p *Pool) lease(a *account, hint Hint, bound bool, now time.Time) *Lease {
	p.useSeq++
	a.useSeq = p.useSeq
	if now.After(a.pend.LastUsed) {
		a.pend.LastUsed = now
	}
	if !bound {
		// A session's own account does not move the rotation on.
		p.rr = a.pos
	}
	if hint.Session != "" && p.cfg.affinityTTL > 0 {
		p.bind(hint.Session, a, now)
	}
	return &Lease{ID: a.id, Acquired: now, Window: a.st.Windows, Model: hint.Model, Session: hint.Session, pool: p, acct: a}
}

// bind keeps session on a for the affinity TTL, sweeping expired bindings
// whenever the map has doubled since the last sweep.
func (p *Pool) bind(session string, a *account, now time.Time) {
	p.sessions[session] = binding{a: a, expires: now.Add(p.cfg.affinityTTL)}
	if len(p.sessions) < p.sweepAt {
		return
	}
	for s, b := range p.sessions {
		if !b.expires.After(now) || b.a.gone {
			delete(p.sessions, s)
		}
	}
	p.sweepAt = max(defaultAffinitySweepSize, 2*len(p.sessions))
}

// availability says why a cannot serve model now, and until when for a
// cooling account.
func (p *Pool) availability(a *account, model string, now time.Time) (Availability, time.Time) {
	switch {
	case a.st.Disabled:
		return Disabled, time.Time{}
	case a.st.NeedsReauth:
		return ReauthNeeded, time.Time{}
	}
	if a.st.UnreadableUntil.After(now) {
		return Unreadable, a.st.UnreadableUntil
	}
	var until time.Time
	if cd := a.st.Cooldowns[""]; cd != nil && cd.Until.After(now) {
		until = cd.Until
	}
	if p.cfg.modelScope && model != "" {
		if cd := a.st.Cooldowns[model]; cd != nil && cd.Until.After(now) && cd.Until.After(until) {
			until = cd.Until
		}
	}
	if until.IsZero() {
		return Ready, until
	}
	return Cooling, until
}

func (p *Pool) exhausted(model string, now time.Time) error {
	if len(p.accounts) == 0 {
		return fmt.Errorf("pool %s: %w", p.key, ErrNoAccounts)
	}
	e := &ExhaustedError{Key: p.key, Reasons: map[Availability]int{}}
	for _, a := range p.accounts {
		av, until := p.availability(a, model, now)
		e.Reasons[av]++
		if (av == Cooling || av == Unreadable) && (e.Soonest.IsZero() || until.Before(e.Soonest)) {
			e.Soonest = until
		}
	}
	return e
}

// Report records what happened to the request sent with l. The outcome
// always applies to l's account, even when another account has become
// current since. Cooldowns and flags are written to the vault at once
// (bounded by 10 s; with WithWriteBehind, by the next Flush); counters in
// batches, by the Report or Flush that completes a batch. The error is that write's: the outcome is in effect
// in this process either way, and an unwritten change is retried with
// the next write.
//
// A lease may be reported more than once (an AuthRejected, then the
// Success of the retry after a refresh). Reports on a lease whose account
// has since left the pool are ignored.
func (p *Pool) Report(l *Lease, o Outcome) error {
	if l == nil || l.pool != p {
		return ErrForeignLease
	}
	now := p.Now()
	if err := p.lockOpen(); err != nil {
		return err
	}
	a := l.acct
	if a.gone {
		p.mu.Unlock()
		return nil
	}
	a.pend.count(o, now)
	p.unflushed++
	scope := ""
	if p.cfg.modelScope {
		scope = o.Model
		if scope == "" {
			scope = l.Model
		}
	}
	write := changesState(a.st, o, scope, l.Window)
	if write {
		p.apply(outcomeOp(a.label, o, scope, l.Window, now, &p.cfg))
	}
	flush := (write || p.flushDue(now)) && !p.cfg.writeBehind
	p.unlock()
	if !flush {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.writeTimeout)
	defer cancel()
	return p.persist(ctx, false)
}
