package pool_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/internal/vaulttest"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// fakeClock is a clock that moves only when told to.
type fakeClock = vaulttest.Clock

func newClock() *fakeClock { return vaulttest.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)) }

// memVault is an in-memory stand-in for *vault.Vault. Every pool gets its
// own client, which remembers the state versions it has seen: that is
// what a vault.StateStamp records, and what StateChanged compares.
type memVault struct {
	mu       sync.Mutex
	recordMu sync.Mutex
	records  map[records.ID]*records.Record
	blobs    map[string][]byte
	version  map[string]uint64
	tampered map[string]bool
	writeErr error
	listErr  error
	readErr  error
	writes   int
	reads    int
	// deadlines seen by UpdateState: how long each write was given.
	budgets []time.Duration
}

func newMemVault() *memVault {
	return &memVault{
		records:  map[records.ID]*records.Record{},
		blobs:    map[string][]byte{},
		version:  map[string]uint64{},
		tampered: map[string]bool{},
	}
}

func (m *memVault) put(ids ...records.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		m.records[id] = &records.Record{
			Provider: id.Provider, Namespace: id.Namespace, Label: id.Label,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret("key-" + id.Label)},
		}
	}
}

func (m *memVault) remove(id records.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, id)
}

// setBlob replaces a state blob behind every pool's back.
func (m *memVault) setBlob(name string, b []byte, tampered bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blobs[name] = b
	m.tampered[name] = tampered
	m.version[name]++
}

func (m *memVault) blob(name string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.blobs[name])
}

func (m *memVault) setWriteErr(err error) {
	m.mu.Lock()
	m.writeErr = err
	m.mu.Unlock()
}

func (m *memVault) counts() (reads, writes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads, m.writes
}

func (m *memVault) client() *memClient { return &memClient{m: m, seen: map[string]uint64{}} }

type memClient struct {
	m    *memVault
	seen map[string]uint64 // guarded by m.mu
}

var _ pool.Store = (*memClient)(nil)

func (c *memClient) List(ctx context.Context, f vault.Filter) ([]vault.Entry, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	if c.m.listErr != nil {
		return nil, c.m.listErr
	}
	var out []vault.Entry
	for id, r := range c.m.records {
		if (f.Provider == "" || f.Provider == id.Provider) && (f.Namespace == "" || f.Namespace == id.Namespace) {
			out = append(out, vault.Entry{ID: id, Kind: r.Kind, Generation: max(r.Generation, 1)})
		}
	}
	slices.SortFunc(out, func(a, b vault.Entry) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out, nil
}

func (c *memClient) Get(ctx context.Context, id records.ID) (*records.Record, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	r := c.m.records[id]
	if r == nil {
		return nil, &vault.RecordError{ID: id, Err: vault.ErrNotFound}
	}
	return r.Clone(), nil
}

func (c *memClient) GetLatest(ctx context.Context, id records.ID) (*records.Record, error) {
	return c.Get(ctx, id)
}

// LockRecord holds the vault's record lock: one per vault, enough for
// tests that refresh one account at a time.
func (c *memClient) LockRecord(ctx context.Context, id records.ID) (func(), error) {
	c.m.recordMu.Lock()
	return c.m.recordMu.Unlock, nil
}

func (c *memClient) Update(ctx context.Context, id records.ID, fn func(*records.Record) error) (*records.Record, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	r := c.m.records[id]
	if r == nil {
		return nil, &vault.RecordError{ID: id, Err: vault.ErrNotFound}
	}
	n := r.Clone()
	if err := fn(n); err != nil {
		return nil, err
	}
	n.Generation = max(r.Generation, 1) + 1
	c.m.records[id] = n
	return n.Clone(), nil
}

func (c *memClient) ReadState(ctx context.Context, name string) ([]byte, vault.StateStamp, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.reads++
	if c.m.readErr != nil {
		return nil, vault.StateStamp{}, c.m.readErr
	}
	b, ok := c.m.blobs[name]
	if !ok {
		return nil, vault.StateStamp{}, fmt.Errorf("state %q: %w", name, vault.ErrNotFound)
	}
	c.seen[name] = c.m.version[name]
	if c.m.tampered[name] {
		return nil, vault.StateStamp{}, fmt.Errorf("state %q: %w", name, vault.ErrTampered)
	}
	return slices.Clone(b), vault.StateStamp{}, nil
}

func (c *memClient) StateChanged(name string, _ vault.StateStamp) bool {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.seen[name] != c.m.version[name]
}

func (c *memClient) UpdateState(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) (vault.StateStamp, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	if d, ok := ctx.Deadline(); ok {
		c.m.budgets = append(c.m.budgets, time.Until(d))
	} else {
		c.m.budgets = append(c.m.budgets, -1)
	}
	if c.m.writeErr != nil {
		return vault.StateStamp{}, c.m.writeErr
	}
	var old []byte
	if b, ok := c.m.blobs[name]; ok && !c.m.tampered[name] {
		old = slices.Clone(b)
	}
	data, err := fn(old)
	if err != nil {
		return vault.StateStamp{}, err
	}
	c.m.blobs[name] = data
	c.m.tampered[name] = false
	c.m.version[name]++
	c.m.writes++
	c.seen[name] = c.m.version[name]
	return vault.StateStamp{}, nil
}

var testKey = pool.Key{Provider: "anthropic", Namespace: "default"}

func acct(label string) records.ID {
	return records.ID{Provider: testKey.Provider, Namespace: testKey.Namespace, Label: label}
}

// accts returns n account ids whose label order is their index order.
func accts(n int) []records.ID {
	ids := make([]records.ID, n)
	for i := range ids {
		ids[i] = acct(fmt.Sprintf("acct-%05d", i))
	}
	return ids
}

// open opens a pool on m with the fake clock and closes it at the end of
// the test.
func open(t testing.TB, m *memVault, clk *fakeClock, opts ...pool.Option) *pool.Pool {
	t.Helper()
	opts = append([]pool.Option{pool.WithClock(clk.Now)}, opts...)
	p, err := pool.Open(context.Background(), m.client(), testKey, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func acquire(t testing.TB, p *pool.Pool, h pool.Hint) *pool.Lease {
	t.Helper()
	l, err := p.Acquire(context.Background(), h)
	if err != nil {
		t.Fatalf("Acquire(%+v): %v", h, err)
	}
	return l
}

func report(t testing.TB, p *pool.Pool, l *pool.Lease, o pool.Outcome) {
	t.Helper()
	if err := p.Report(l, o); err != nil {
		t.Fatalf("Report(%s, %v): %v", l.ID, o.Kind, err)
	}
}

func label(t testing.TB, p *pool.Pool, h pool.Hint) string {
	t.Helper()
	return acquire(t, p, h).ID.Label
}

func accountOf(t testing.TB, p *pool.Pool, id records.ID) pool.Account {
	t.Helper()
	a, err := p.Account(context.Background(), id)
	if err != nil {
		t.Fatalf("Account(%s): %v", id, err)
	}
	return a
}

func rateLimited() pool.Outcome { return pool.Outcome{Kind: pool.RateLimited, Status: 429} }

func success() pool.Outcome { return pool.Outcome{Kind: pool.Success, Status: 200} }
