package pool

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// writeRetry is how long Acquire waits after a failed state write before
// it tries to write again on its own (Report and the operations always try).
const writeRetry = 5 * time.Second

// Pool hands out the accounts of one provider and namespace. It is safe
// for concurrent use, and several processes may open pools on the same
// vault and key: they share one pool state.
type Pool struct {
	store Store
	key   Key
	name  string
	cfg   config

	persistMu     sync.Mutex     // serializes state writes; taken before mu
	countersWrite sync.WaitGroup // a write of the counters alone (Flush)

	mu      sync.Mutex
	closed  bool
	state   *state // the last state read or written, plus pending ops
	stamp   vault.StateStamp
	pending []op // applied to state, not yet written
	writing bool // a write is in flight: its result is newer than the disk

	listed    map[string]struct{} // labels of the last vault listing
	labels    []string            // the same, oldest record first
	settings  map[string]settings // the operator's decisions, from the records
	listStart time.Time
	relistAt  time.Time
	relistNow bool

	accounts []*account // the pool's accounts, by position
	byLabel  map[string]*account
	rr       int // position handed out last, for RoundRobin
	useSeq   uint64
	sessions map[string]binding
	sweepAt  int

	unflushed int // outcomes reported since the last write
	lastFlush time.Time
	retryAt   time.Time

	readErr  error // sticky: the last state blob that could not be read
	badBlob  bool  // the blob on disk is the one readErr reports
	writeErr error // the last write, if it failed
	// countersWriting: Flush started a write of the counters alone.
	countersWriting bool
	notes           []error
}

// account is the in-memory side of one account: its position, its
// persisted state and what this process has not written yet.
type account struct {
	id    records.ID
	label string
	pos   int
	st    *acctState
	gone  bool

	pend   Stats  // counters not written yet
	useSeq uint64 // this process's order of uses, for LeastRecentlyUsed
}

// settings are the operator's decisions about an account as its record
// holds them, read when the record's generation changes.
type settings struct {
	gen      uint64
	position int
	created  time.Time
	disabled *records.Disabled
}

// settingsOf returns the decisions r holds, read at generation gen.
func settingsOf(gen uint64, r *records.Record) settings {
	return settings{gen: gen, position: r.Position, created: r.Created, disabled: r.Disabled}
}

type binding struct {
	a       *account
	expires time.Time
}

// Open returns the pool of key's accounts in store. It lists the vault
// and reads the pool state; a state blob that is tampered with or corrupt
// does not fail Open: the pool starts from a clean state, and the problem
// is reported through Health.
// Close the pool to write the last counters.
func Open(ctx context.Context, store Store, key Key, opts ...Option) (*Pool, error) {
	if err := key.validate(); err != nil {
		return nil, err
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	p := &Pool{
		store:    store,
		key:      key,
		name:     stateName(key),
		cfg:      cfg,
		state:    newState(),
		byLabel:  map[string]*account{},
		settings: map[string]settings{},
		rr:       -1,
		sessions: map[string]binding{},
		sweepAt:  defaultAffinitySweepSize,
	}
	now := p.Now()
	p.lastFlush = now
	p.mu.Lock()
	if err := p.reload(ctx, now); err != nil {
		p.mu.Unlock()
		return nil, err
	}
	if err := p.relist(ctx, now); err != nil {
		p.mu.Unlock()
		return nil, err
	}
	save := len(p.pending) > 0
	p.unlock()
	if save {
		// A failure is reported through Health; the pool works anyway.
		_ = p.persist(ctx, false)
	}
	return p, nil
}

// Key returns the provider and namespace the pool serves.
func (p *Pool) Key() Key { return p.key }

// Close writes the counters not written yet and releases the pool.
// Acquire and Report fail with ErrClosed afterwards. Closing twice is a
// no-op.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.countersWrite.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.writeTimeout)
	defer cancel()
	return p.persist(ctx, true)
}

// Flush writes the changes Report and Acquire left for it (see
// WithWriteBehind), with the counters, bounded by 10 s. A Flush whose
// changes another write carried waits for that write and returns. When
// only the counters are due (every 15 s), Flush starts their write and
// returns without waiting for it: they are written behind, and Close
// waits for that write. Otherwise it writes nothing.
func (p *Pool) Flush(ctx context.Context) error {
	p.mu.Lock()
	changes := len(p.pending) > 0
	counters := !changes && !p.closed && !p.countersWriting && p.flushDue(p.Now())
	p.countersWriting = p.countersWriting || counters
	p.mu.Unlock()
	if counters {
		detached := context.WithoutCancel(ctx)
		p.countersWrite.Add(1)
		go func() {
			defer p.countersWrite.Done()
			ctx, cancel := context.WithTimeout(detached, p.cfg.writeTimeout)
			defer cancel()
			_ = p.persist(ctx, false) // a failure is reported through Health
			p.mu.Lock()
			p.countersWriting = false
			p.mu.Unlock()
		}()
	}
	if !changes {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.writeTimeout)
	defer cancel()
	return p.persist(ctx, false)
}

// Health returns nil when the pool state was read and last written
// without trouble; otherwise errors naming the pool, the operation and
// the state blob, wrapping what went wrong (vault.ErrTampered,
// ErrCorruptState, ErrNewerState, a write's error). A state blob found tampered with or corrupt stays reported for
// the pool's lifetime, even after a clean state replaced it: an operator
// should see it.
func (p *Pool) Health() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.readErr, p.writeErr)
}

// Refresh lists the vault and reads the pool state again now, instead of
// waiting for Acquire to notice (see WithRelistInterval).
func (p *Pool) Refresh(ctx context.Context) error {
	now := p.Now()
	if err := p.lockOpen(); err != nil {
		return err
	}
	err := p.relist(ctx, now)
	if err == nil && !p.writing {
		err = p.reload(ctx, now)
	}
	save := len(p.pending) > 0
	p.unlock()
	if save {
		if werr := p.persist(ctx, false); err == nil {
			err = werr
		}
	}
	return err
}

// Now returns the time on the pool's clock (WithClock), which every
// cooldown is measured by: a transport on the pool reads the time here.
func (p *Pool) Now() time.Time { return p.cfg.now().Round(0) }

// lockOpen takes mu, or fails with ErrClosed, not holding it, once the
// pool is closed.
func (p *Pool) lockOpen() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// unlock releases mu, and the other locks given (persist's persistMu),
// and then tells the handler about the state errors noted while they
// were held, so the handler may call the pool.
func (p *Pool) unlock(more ...*sync.Mutex) {
	notes := p.notes
	p.notes = nil
	p.mu.Unlock()
	for _, m := range more {
		m.Unlock()
	}
	for _, err := range notes {
		p.cfg.onStateError(err)
	}
}

func (p *Pool) note(op string, err error) *stateError {
	se := &stateError{Key: p.key, Name: p.name, Op: op, Err: err}
	if p.cfg.onStateError != nil {
		p.notes = append(p.notes, se)
	}
	return se
}

// sync brings the process's view up to date: the pool state when another
// process changed it, and the account list when it is due. Called with mu
// held.
func (p *Pool) sync(ctx context.Context, now time.Time) {
	// While a write of ours is in flight its result is newer than
	// anything on disk, and adopting it brings every other process's
	// changes too.
	if !p.writing && p.store.StateChanged(p.name, p.stamp) {
		_ = p.reload(ctx, now)
	}
	if p.relistNow || p.cfg.relist > 0 && !now.Before(p.relistAt) {
		_ = p.relist(ctx, now)
	}
}

// reload reads the state blob. A blob that fails authentication or
// decoding is reported and replaced by a clean state. Only an error that
// says nothing about the blob (I/O, context) is returned, and the current
// state kept. Called with mu held.
func (p *Pool) reload(ctx context.Context, now time.Time) error {
	data, stamp, err := p.store.ReadState(ctx, p.name)
	bad := unreadable(err)
	switch {
	case errors.Is(err, vault.ErrNotFound), bad:
	case err != nil:
		return p.note("read", err)
	default:
		var s *state
		if s, err = decodeState(data); err == nil {
			p.badBlob = false
			p.adopt(s, stamp, now)
			return nil
		}
		bad = true
	}
	if bad {
		p.readErr = p.note("read", err)
	}
	p.badBlob = bad
	p.adopt(cleanState(p.labels, now), stamp, now)
	p.relistNow = true // the records' decisions are enforced again
	return nil
}

// unreadable reports whether a ReadState error condemns the blob itself
// (as opposed to the disk or the vault being unavailable).
func unreadable(err error) bool {
	return errors.Is(err, vault.ErrTampered) || errors.Is(err, vault.ErrCorrupt) ||
		errors.Is(err, records.ErrEnvelopeFormat) || errors.Is(err, records.ErrEnvelopeVersion)
}

// relist lists the vault's accounts for the key. Called with mu held.
func (p *Pool) relist(ctx context.Context, now time.Time) error {
	p.relistNow = false
	p.relistAt = now.Add(p.cfg.relist)
	entries, err := p.store.List(ctx, vault.Filter{Provider: p.key.Provider, Namespace: p.key.Namespace})
	if err != nil {
		return p.note("list", err)
	}
	labels := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.ID.Provider == p.key.Provider && e.ID.Namespace == p.key.Namespace {
			labels = append(labels, e.ID.Label)
			p.readSettings(ctx, e)
		}
	}
	slices.Sort(labels)
	labels = slices.Compact(labels)
	for l := range p.settings {
		if _, ok := slices.BinarySearch(labels, l); !ok {
			delete(p.settings, l)
		}
	}
	// New accounts go last, oldest first.
	slices.SortStableFunc(labels, func(a, b string) int { return p.settings[a].created.Compare(p.settings[b].created) })
	p.listStart = now
	changed := p.listed == nil || !slices.Equal(labels, p.labels)
	if changed {
		p.labels = labels
		p.listed = make(map[string]struct{}, len(labels))
		for _, l := range labels {
			p.listed[l] = struct{}{}
		}
	}
	if p.reconcile(now) || changed {
		p.rebuild(now)
	}
	if p.enforce() {
		p.rebuild(now)
	}
	return nil
}

// readSettings reads the operator's decisions from e's record when its
// generation changed. A record that cannot be read keeps what was known
// (the transport marks it unreadable when it is leased).
func (p *Pool) readSettings(ctx context.Context, e vault.Entry) {
	if s, ok := p.settings[e.ID.Label]; ok && s.gen == e.Generation {
		return
	}
	r, err := p.store.Get(ctx, e.ID)
	if err != nil {
		return
	}
	p.settings[e.ID.Label] = settingsOf(e.Generation, r)
}

// enforce makes the state's copy of the operator's decisions agree with
// the records, which win: a pool state lost or damaged loses no order and
// no disabled account. Records that name no position keep the state's
// order. Called with mu held after a listing.
func (p *Pool) enforce() bool {
	changed := false
	if want := p.recordOrder(); want != nil {
		have := make([]string, 0, len(want))
		for _, l := range p.state.Order {
			if _, ok := p.listed[l]; ok {
				have = append(have, l)
			}
		}
		if !slices.Equal(have, want) {
			p.apply(reorderOp(want))
			changed = true
		}
	}
	for _, l := range p.labels {
		d := p.settings[l].disabled
		st := p.state.Accounts[l]
		if d == nil || st == nil || st.Disabled && st.DisabledReason == disabledReason(d) {
			continue
		}
		reason := disabledReason(d)
		p.apply(accountOp(l, func(st *acctState) { st.Disabled, st.DisabledReason = true, reason }))
		changed = true
	}
	return changed
}

func disabledReason(d *records.Disabled) string {
	if d.Reason == "" {
		return defaultDisabledReason
	}
	return d.Reason
}

// recordOrder returns the listed accounts in the order their records
// give (placed accounts by position, then the others oldest first), or
// nil when no record is placed.
func (p *Pool) recordOrder() []string {
	placed := false
	for _, l := range p.labels {
		if p.settings[l].position > 0 {
			placed = true
			break
		}
	}
	if !placed {
		return nil
	}
	order := slices.Clone(p.labels)
	slices.SortStableFunc(order, func(a, b string) int {
		pa, pb := p.settings[a].position, p.settings[b].position
		switch {
		case pa == pb:
			return 0
		case pa == 0:
			return 1
		case pb == 0:
			return -1
		}
		return cmp.Compare(pa, pb)
	})
	return order
}

// cleanState is the state the pool starts from when there is none, or
// none it can read: the listed accounts in label order, all ready.
func cleanState(labels []string, now time.Time) *state {
	s := newState()
	membershipOp(labels, nil, now, time.Time{})(s)
	return s
}

// adopt makes s, read from or written to disk, the process's state, with
// the ops not yet written applied on top. Called with mu held.
func (p *Pool) adopt(s *state, stamp vault.StateStamp, now time.Time) {
	for _, fn := range p.pending {
		fn(s)
	}
	p.state, p.stamp = s, stamp
	p.reconcile(now)
	p.rebuild(now)
}

// reconcile appends listed accounts the state lacks and forgets accounts
// whose records are gone, reporting whether it changed the state. Called
// with mu held.
func (p *Pool) reconcile(now time.Time) bool {
	if p.listed == nil {
		return false // not listed yet (Open reads the state first)
	}
	var add, drop []string
	for _, l := range p.labels {
		if p.state.Accounts[l] == nil {
			add = append(add, l)
		}
	}
	for _, l := range p.state.Order {
		if _, ok := p.listed[l]; ok {
			continue
		}
		if p.state.Accounts[l].Added.Before(p.listStart) {
			drop = append(drop, l)
		} else {
			// Another process saw a record our listing predates.
			p.relistNow = true
		}
	}
	if len(add) == 0 && len(drop) == 0 {
		return false
	}
	p.apply(membershipOp(add, drop, now, p.listStart))
	return true
}

// apply applies fn to the process's state and queues it for writing.
func (p *Pool) apply(fn op) {
	fn(p.state)
	p.pending = append(p.pending, fn)
}

// rebuild recomputes the accounts' positions from the state. Called with
// mu held after any change of membership or order.
func (p *Pool) rebuild(now time.Time) {
	old := p.byLabel
	p.byLabel = make(map[string]*account, len(p.state.Order))
	p.accounts = p.accounts[:0]
	for _, l := range p.state.Order {
		if _, ok := p.listed[l]; !ok {
			continue
		}
		a := old[l]
		if a == nil {
			a = &account{id: records.ID{Provider: p.key.Provider, Namespace: p.key.Namespace, Label: l}, label: l}
		}
		a.st = p.state.Accounts[l]
		a.pos = len(p.accounts)
		p.accounts = append(p.accounts, a)
		p.byLabel[l] = a
	}
	for l, a := range old {
		if p.byLabel[l] != a {
			a.gone = true
		}
	}
	clear(p.accounts[len(p.accounts):cap(p.accounts)])
	if p.rr >= len(p.accounts) {
		p.rr = -1
	}
}

// lastUse is when a was last handed out, by any process as far as this
// one knows.
func (a *account) lastUse() time.Time {
	if a.pend.LastUsed.After(a.st.Stats.LastUsed) {
		return a.pend.LastUsed
	}
	return a.st.Stats.LastUsed
}

// persist writes the pending ops and counters under the vault lock,
// merged into the state on disk, and adopts the result: when ops are
// pending, when the counters are due, or, with all, whenever a counter is
// unwritten. Writes are serialized: a caller that finds its ops written
// by another write returns once that write is done.
func (p *Pool) persist(ctx context.Context, all bool) error {
	p.persistMu.Lock()
	p.mu.Lock()
	n := len(p.pending)
	if n == 0 && !all && !p.flushDue(p.Now()) {
		p.mu.Unlock()
		p.persistMu.Unlock()
		return nil
	}
	ops := p.pending[:n:n]
	var accts []*account // those with unwritten counters
	var deltas []Stats
	for _, a := range p.accounts {
		if !a.pend.isZero() {
			accts = append(accts, a)
			deltas = append(deltas, a.pend)
		}
	}
	unflushed := p.unflushed
	labels := p.labels // replaced, never modified: safe to read unlocked
	if n == 0 && len(accts) == 0 {
		p.mu.Unlock()
		p.persistMu.Unlock()
		return nil
	}
	p.writing = true
	p.mu.Unlock()

	var merged *state
	var readErr error
	start := p.Now()
	stamp, err := p.store.UpdateState(ctx, p.name, func(old []byte) ([]byte, error) {
		s := cleanState(labels, start)
		if len(old) > 0 {
			var derr error
			s, derr = decodeState(old)
			if errors.Is(derr, ErrNewerState) {
				return nil, derr
			}
			if derr != nil {
				readErr, s = derr, cleanState(labels, start)
			}
		}
		for _, fn := range ops {
			fn(s)
		}
		for i, a := range accts {
			if st := s.Accounts[a.label]; st != nil {
				st.Stats.add(deltas[i])
			}
		}
		merged = s
		return s.encode()
	})

	now := p.Now()
	p.mu.Lock()
	p.writing = false
	if err != nil {
		if readErr == nil && errors.Is(err, ErrNewerState) && !p.badBlob {
			p.readErr = p.note("read", err)
		}
		p.writeErr = p.note("write", err)
		p.retryAt = now.Add(writeRetry)
		werr := p.writeErr
		p.unlock(&p.persistMu)
		return werr
	}
	p.writeErr = nil
	if readErr != nil && !p.badBlob {
		// Gone bad since this process last read it.
		p.readErr = p.note("read", readErr)
	}
	if readErr != nil {
		p.relistNow = true // the records' decisions are enforced again
	}
	p.badBlob = false
	p.pending = append([]op(nil), p.pending[n:]...)
	for i, a := range accts {
		a.pend.sub(deltas[i])
	}
	p.unflushed -= unflushed
	p.lastFlush = now
	p.adopt(merged, stamp, now)
	p.unlock(&p.persistMu)
	return nil
}

// flushDue reports whether the counters should be written now. Called
// with mu held.
func (p *Pool) flushDue(now time.Time) bool {
	if p.unflushed == 0 || now.Before(p.retryAt) {
		return false
	}
	return p.cfg.flushEvery > 0 && p.unflushed >= p.cfg.flushEvery ||
		p.cfg.flushInterval > 0 && now.Sub(p.lastFlush) >= p.cfg.flushInterval
}
