package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authvault/authvault/records"
)

// Availability says whether an account can serve requests, or why not.
type Availability int

// The availabilities, from the best to the one that takes an operator.
const (
	// Ready: the account can serve now.
	Ready Availability = iota
	// Cooling: the account is rate limited or out of quota until a time.
	Cooling
	// ReauthNeeded: the credential needs a new login (see
	// Pool.ClearNeedsReauth).
	ReauthNeeded
	// Disabled: an operator or a Fatal outcome took the account out of
	// service (see Pool.Enable).
	Disabled
	// Unreadable: the account's record could not be read; it is skipped
	// until Until, when a request reads it again (see Account.Unreadable).
	Unreadable
)

var availabilityNames = [...]string{"ready", "cooling", "needs re-authentication", "disabled", "unreadable"}

// String returns the availability in words.
func (av Availability) String() string {
	if av >= 0 && int(av) < len(availabilityNames) {
		return availabilityNames[av]
	}
	return fmt.Sprintf("Availability(%d)", int(av))
}

// Account is a snapshot of one account of the pool, for display.
type Account struct {
	ID       records.ID
	Position int // in the pool's order, from 0
	// Availability is the account's as a whole; a pool that cools
	// accounts per model may still have one Ready here cooling for some
	// models (see Cooldowns).
	Availability Availability
	// Until is when an account-wide cooldown ends, zero when none is open.
	Until          time.Time
	Disabled       bool
	DisabledReason string
	// DisabledAt is when an operator disabled the account (zero when a
	// Fatal outcome did, or it is enabled).
	DisabledAt   time.Time
	NeedsReauth  bool
	ReauthReason string
	// Unreadable is the class of the error the account's record last
	// failed to read with ("tampered", "permissions", "missing",
	// "rollback", "error"; see UnreadableClass), empty once it was read
	// again.
	Unreadable string
	// Cooldowns lists the account's backoff entries, open or not: an
	// entry whose Until has passed still sets the next backoff step until
	// a success resets it. Sorted by model, the account-wide entry first.
	Cooldowns []Cooldown
	// Stats includes this process's counters not written yet; other
	// processes' show once they write them.
	Stats Stats
}

// Cooldown is one backoff entry of an account.
type Cooldown struct {
	Model  string      // "" for the whole account
	Kind   OutcomeKind // RateLimited or QuotaExhausted
	Until  time.Time   // the window's end
	Step   int         // escalations since the last success, from 1
	Reason string      // the outcome's reason
	Status int         // the outcome's HTTP status
}

// Accounts returns every account of the pool in order, with its
// availability, cooldowns and counters. It reads the pool state first if
// another process changed it.
func (p *Pool) Accounts(ctx context.Context) ([]Account, error) {
	now := p.Now()
	if err := p.lockOpen(); err != nil {
		return nil, err
	}
	p.sync(ctx, now)
	out := make([]Account, len(p.accounts))
	for i, a := range p.accounts {
		out[i] = p.snapshot(a, now)
	}
	p.unlock()
	return out, nil
}

// Account returns one account's snapshot, as Accounts does.
func (p *Pool) Account(ctx context.Context, id records.ID) (Account, error) {
	accts, err := p.Accounts(ctx)
	if err != nil {
		return Account{}, err
	}
	for _, a := range accts {
		if a.ID == id {
			return a, nil
		}
	}
	return Account{}, fmt.Errorf("pool %s: %w: %s", p.key, ErrUnknownAccount, id)
}

func (p *Pool) snapshot(a *account, now time.Time) Account {
	av, until := p.availability(a, "", now)
	acc := Account{
		ID:             a.id,
		Position:       a.pos,
		Availability:   av,
		Until:          until,
		Disabled:       a.st.Disabled,
		DisabledReason: a.st.DisabledReason,
		DisabledAt:     p.disabledAt(a),
		NeedsReauth:    a.st.NeedsReauth,
		ReauthReason:   a.st.ReauthReason,
		Unreadable:     a.st.Unreadable,
		Stats:          a.st.Stats,
	}
	acc.Stats.add(a.pend)
	for m, cd := range a.st.Cooldowns {
		acc.Cooldowns = append(acc.Cooldowns, Cooldown{Model: m, Kind: cd.Kind, Until: cd.Until, Step: cd.Step, Reason: cd.Reason, Status: cd.Status})
	}
	slices.SortFunc(acc.Cooldowns, func(x, y Cooldown) int { return strings.Compare(x.Model, y.Model) })
	return acc
}

func (p *Pool) disabledAt(a *account) time.Time {
	if d := p.settings[a.label].disabled; d != nil && a.st.Disabled {
		return d.At
	}
	return time.Time{}
}

func (p *Pool) lookup(id records.ID) (*account, error) {
	if KeyOf(id) == p.key {
		if a := p.byLabel[id.Label]; a != nil {
			return a, nil
		}
	}
	return nil, fmt.Errorf("pool %s: %w: %s", p.key, ErrUnknownAccount, id)
}

// Move puts the account at position to (from 0) in the pool's order,
// shifting the accounts in between. The order is written at once, into
// the records (each record's Position) and the pool state, and every
// process follows it.
func (p *Pool) Move(ctx context.Context, id records.ID, to int) error {
	now := p.Now()
	if err := p.lockOpen(); err != nil {
		return err
	}
	p.sync(ctx, now)
	a, err := p.lookup(id)
	if err == nil && (to < 0 || to >= len(p.accounts)) {
		err = fmt.Errorf("pool %s: position %d out of range [0, %d)", p.key, to, len(p.accounts))
	}
	if err != nil {
		p.unlock()
		return err
	}
	labels := make([]string, 0, len(p.accounts))
	for _, b := range p.accounts {
		if b != a {
			labels = append(labels, b.label)
		}
	}
	labels = slices.Insert(labels, to, a.label)
	p.apply(reorderOp(labels))
	p.rebuild(now)
	var moved []int // indexes in labels of the records to write
	for i, l := range labels {
		if p.settings[l].position != i+1 {
			moved = append(moved, i)
		}
	}
	p.unlock()
	// A record that cannot be written (unreadable) keeps its old position
	// and is named in the error; the others move.
	var errs []error
	for _, i := range moved {
		if err := p.updateRecord(ctx, labels[i], func(r *records.Record) { r.Position = i + 1 }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, p.persist(ctx, false))...)
}

// updateRecord changes the record labelled label, and what the pool knows
// of it.
func (p *Pool) updateRecord(ctx context.Context, label string, fn func(r *records.Record)) error {
	id := records.ID{Provider: p.key.Provider, Namespace: p.key.Namespace, Label: label}
	r, err := p.store.Update(ctx, id, func(r *records.Record) error {
		fn(r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("pool %s: %w", p.key, err)
	}
	p.mu.Lock()
	p.settings[label] = settingsOf(r.Generation, r)
	p.mu.Unlock()
	return nil
}

const defaultDisabledReason = "disabled by the operator"

// Disable takes the account out of service until Enable, with a reason
// shown to the operator. The decision is written at once into the
// account's record (with the time), where a lost or damaged pool state
// cannot undo it and backups and copies keep it, and into the pool state.
func (p *Pool) Disable(ctx context.Context, id records.ID, reason string) error {
	if reason == "" {
		reason = defaultDisabledReason
	}
	return p.setDisabled(ctx, id, &records.Disabled{Reason: reason, At: p.Now().UTC()})
}

// Enable puts a disabled account back in service, whether an operator or
// a Fatal outcome disabled it. Its cooldowns and NeedsReauth flag are
// left as they are.
func (p *Pool) Enable(ctx context.Context, id records.ID) error {
	return p.setDisabled(ctx, id, nil)
}

// setDisabled writes the operator's decision d (nil: enabled) into the
// account's record, then into the pool state.
func (p *Pool) setDisabled(ctx context.Context, id records.ID, d *records.Disabled) error {
	if _, err := p.Account(ctx, id); err != nil {
		return err
	}
	if err := p.updateRecord(ctx, id.Label, func(r *records.Record) { r.Disabled = d }); err != nil {
		return err
	}
	return p.change(ctx, id, func(st *acctState) {
		st.Disabled, st.DisabledReason = d != nil, ""
		if d != nil {
			st.DisabledReason = d.Reason
		}
	})
}

// Reset ends the account's cooldowns and resets its backoff, as a success
// would, and clears an unreadable mark. Written at once.
func (p *Pool) Reset(ctx context.Context, id records.ID) error {
	return p.change(ctx, id, func(st *acctState) {
		st.Cooldowns = nil
		st.Unreadable, st.UnreadableUntil = "", time.Time{}
	})
}

// ClearNeedsReauth clears the account's NeedsReauth flag: call it after a
// new login stored a fresh credential. A successful refresh clears it too
// (RecordRefresh, or an Outcome with Refreshed set).
func (p *Pool) ClearNeedsReauth(ctx context.Context, id records.ID) error {
	return p.change(ctx, id, func(st *acctState) { st.NeedsReauth, st.ReauthReason = false, "" })
}

// RecordRefresh counts a token refresh of the account made outside a
// reported request (a login tool, a background refresher). A successful
// one clears NeedsReauth at once; a failed one is only counted: report a
// NeedsReauth outcome when the refresh token is dead.
func (p *Pool) RecordRefresh(ctx context.Context, id records.ID, ok bool) error {
	if err := p.lockOpen(); err != nil {
		return err
	}
	a, err := p.lookup(id)
	if err != nil {
		p.unlock()
		return err
	}
	if !ok {
		a.pend.RefreshFailures++
		p.unlock()
		return nil
	}
	a.pend.Refreshes++
	write := a.st.NeedsReauth
	if write {
		p.apply(accountOp(a.label, func(st *acctState) { st.NeedsReauth, st.ReauthReason = false, "" }))
	}
	p.unlock()
	if !write {
		return nil
	}
	return p.persist(ctx, false)
}

// change applies fn to the account's state here and on disk.
func (p *Pool) change(ctx context.Context, id records.ID, fn func(st *acctState)) error {
	now := p.Now()
	if err := p.lockOpen(); err != nil {
		return err
	}
	p.sync(ctx, now)
	a, err := p.lookup(id)
	if err != nil {
		p.unlock()
		return err
	}
	p.apply(accountOp(a.label, fn))
	p.unlock()
	return p.persist(ctx, false)
}
