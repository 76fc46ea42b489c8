package vault

import (
	"errors"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// The change counters let a hot read skip its stat. The directory store
// keeps two 64-bit counters in a small file, .changes, that every process
// using the vault maps into memory (MAP_SHARED): "begun", raised before any
// blob is written or removed, and "done", raised after. A reader loads done
// and then begun; when they are equal no write is in progress, and every
// write that began earlier has finished. A reader that checked a blob's
// stamp after seeing the counters at value n knows the blob is unchanged
// for as long as both still read n: every operation on the counters raises
// at least one of them, and none lowers either, so n cannot come back.
//
// A writer that dies between the two leaves begun ahead of done; readers
// then stat as before, until the next holder of the vault lock raises both
// past the larger (heal). A process that cannot map the file (Windows, a
// read-only or unusual filesystem) stats as before; so does one whose
// last check is older than changesMaxAge, which bounds how long a replaced
// .changes file (all processes no longer sharing one) could hide a change.
//
// The counters are not secret and not authenticated: someone who can write
// the vault directory can make readers stat every time, or delay by up to
// changesMaxAge when a change by another process is seen, and nothing
// else. A read under a lock (a writer, a token refresh) always stats.

const (
	changesName = ".changes"
	// changesSize is the file's size: the two counters and room to grow.
	changesSize   = 64
	changesMaxAge = time.Second
)

// changeCounters is the mapped file of one directory store.
type changeCounters struct {
	mu  sync.RWMutex // guards mem against Close
	mem []byte       // nil when unavailable
	off bool         // closed, or never to be mapped
	// tried is when a reader last found no file to map: a vault no
	// writer has touched since before it had counters.
	tried time.Time
}

func (c *changeCounters) words() (begun, done *uint64) {
	return (*uint64)(unsafe.Pointer(&c.mem[0])), (*uint64)(unsafe.Pointer(&c.mem[8]))
}

// token returns the done counter when no write is in progress.
func (c *changeCounters) token() (uint64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mem == nil {
		return 0, false
	}
	begun, done := c.words()
	d := atomic.LoadUint64(done)
	return d, atomic.LoadUint64(begun) == d
}

// begin marks a write as started; the returned function marks it done.
func (c *changeCounters) begin() func() {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mem == nil {
		return func() {}
	}
	begun, _ := c.words()
	atomic.AddUint64(begun, 1)
	return func() {
		c.mu.RLock()
		defer c.mu.RUnlock()
		if c.mem != nil {
			_, done := c.words()
			atomic.AddUint64(done, 1)
		}
	}
}

// heal runs under the vault lock: a write that never finished (its
// process died) would otherwise keep readers on the slow path for good.
func (c *changeCounters) heal() {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mem == nil {
		return
	}
	begun, done := c.words()
	b, d := atomic.LoadUint64(begun), atomic.LoadUint64(done)
	if b == d {
		return
	}
	to := max(b, d) + 1
	raise(begun, to)
	raise(done, to)
}

// raise sets *p to at least to, never lowering it.
func raise(p *uint64, to uint64) {
	for {
		cur := atomic.LoadUint64(p)
		if cur >= to || atomic.CompareAndSwapUint64(p, cur, to) {
			return
		}
	}
}

func (c *changeCounters) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mem != nil {
		unmapChanges(c.mem)
		c.mem = nil
	}
	c.off = true
}

// changesRetry is how often a reader looks for a .changes file that was
// missing.
const changesRetry = time.Second

// changeTracker is implemented by stores that keep change counters.
type changeTracker interface {
	changeToken() (uint64, bool)
}

// changeToken reads the store's change counters, and the time with them
// when no write is in progress.
func (v *Vault) changeToken() (tok uint64, ok bool, now time.Time) {
	if v.tracker != nil {
		if tok, ok = v.tracker.changeToken(); ok {
			now = time.Now()
		}
	}
	return tok, ok, now
}

// changeMemo records that a stat found a blob's stamp to be stamp while
// the counters read tok.
type changeMemo struct {
	tok   uint64
	at    time.Time
	stamp Stamp
}

// vouches reports whether the memo says the blob still has its stamp.
func (m *changeMemo) vouches(tok uint64, now time.Time) bool {
	return m != nil && m.tok == tok && now.Sub(m.at) < changesMaxAge
}

// counters maps the store's .changes file the first time it is needed:
// a writer creates it, a reader only maps one that exists, so reading a
// directory that holds no vault leaves nothing behind.
func (s *dirStore) counters(create bool) *changeCounters {
	c := &s.changes
	c.mu.RLock()
	done := c.mem != nil || c.off
	c.mu.RUnlock()
	if done {
		return c
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mem != nil || c.off || !create && time.Since(c.tried) < changesRetry {
		return c
	}
	mem, err := mapChanges(s.path(changesName), s.insecure, create)
	switch {
	case err == nil:
		c.mem = mem
	case errors.Is(err, fs.ErrNotExist):
		c.tried = time.Now()
	default:
		c.off = true // Windows, a filesystem without shared mappings, a bad file
	}
	return c
}

func (s *dirStore) changeToken() (uint64, bool) { return s.counters(false).token() }
