package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/records"
)

// Vault is an open vault. It is safe for concurrent use by many goroutines,
// and any number of processes may open the same vault at once.
type Vault struct {
	dir        string
	store      Store
	opts       options
	identities []age.Identity
	closed     atomic.Bool

	// mu guards the decrypted view below. File I/O for writes happens
	// outside it, under the store lock, so readers are never blocked by a
	// slow fsync in another goroutine.
	mu        sync.RWMutex
	keys      *envelope.Keys
	dek       *dataKey // kept to re-wrap it for a new key slot; cleared on Close
	hdr       *header
	hdrRaw    []byte // vault.json as last read or written
	hdrStamp  Stamp
	man       *manifest
	manStamp  Stamp
	highWater uint64 // the highest manifest generation this process saw
	cache     map[records.ID]*records.Record
	// tidied is when this process last collected state debris
	// (tidyState), by the vault clock.
	tidied time.Time

	stateNamesMu   sync.Mutex
	stateNames     map[string]string
	stateNamesKeys *envelope.Keys
}

// Filter selects records by provider and namespace; empty fields match all.
type Filter struct {
	Provider  string
	Namespace string
}

func (f Filter) match(id records.ID) bool {
	return (f.Provider == "" || f.Provider == id.Provider) && (f.Namespace == "" || f.Namespace == id.Namespace)
}

// Entry describes a record from the manifest, without decrypting it.
type Entry struct {
	ID         records.ID
	Kind       records.Kind
	Generation uint64
	Updated    time.Time
}

// Create makes a new vault in dir (created 0700 if missing) whose data key
// is wrapped to recipients, and returns it open. It refuses a directory
// that already holds a vault.
func Create(ctx context.Context, dir string, recipients []age.Recipient, opts ...Option) (*Vault, error) {
	o := buildOptions(opts)
	if len(recipients) == 0 {
		return nil, errors.New("vault: Create needs at least one recipient")
	}
	store := o.store
	if store == nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return nil, err
		}
		ds := newDirStore(dir, o.insecure)
		d, err := ds.rootDir(true)
		if err != nil {
			return nil, err
		}
		d.close()
		store = ds
	}
	ctx, cancel := o.lockContext(ctx)
	defer cancel()
	unlock, err := store.Lock(ctx, "")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := store.Stamp(headerName); err == nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	dek := make([]byte, envelope.DataKeySize)
	randRead(dek)
	h := &header{Format: FormatVersion, VaultID: newVaultID(), Created: o.now().UTC().Truncate(time.Second)}
	for _, r := range recipients {
		s, err := recipientString(r)
		if err != nil {
			return nil, err
		}
		h.Recipients = append(h.Recipients, s)
	}
	if h.DataKey, err = wrapDataKey(dek, recipients); err != nil {
		return nil, err
	}
	keys, err := envelope.DeriveKeys(dek, h.VaultID)
	if err != nil {
		return nil, err
	}
	h.seal(keys)
	// The manifest first: a vault exists once its header does.
	man := newManifest()
	if err := writeManifest(store, keys, manifestName, man); err != nil {
		return nil, err
	}
	hb, err := h.marshal()
	if err != nil {
		return nil, err
	}
	if err := store.Write(headerName, hb); err != nil {
		return nil, err
	}
	v := &Vault{dir: dir, store: store, opts: o, keys: keys, dek: &dataKey{b: dek}, hdr: h, hdrRaw: hb, man: man, cache: map[records.ID]*records.Record{}}
	v.hdrStamp, _ = store.Stamp(headerName)
	v.manStamp, _ = store.Stamp(manifestName)
	return v, nil
}

// Open opens the vault in dir with the first identity that matches one of
// its key slots. The data key is unwrapped once, here; every record read
// after that costs one symmetric decryption.
func Open(ctx context.Context, dir string, identities []age.Identity, opts ...Option) (*Vault, error) {
	o := buildOptions(opts)
	store := o.store
	if store == nil {
		ds := newDirStore(dir, o.insecure)
		d, err := ds.rootDir(false)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", dir, ErrNoVault)
		}
		if err != nil {
			return nil, err
		}
		d.close()
		store = ds
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := &Vault{dir: dir, store: store, opts: o, identities: identities, cache: map[records.ID]*records.Record{}}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := store.Stamp(headerName); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoVault)
	}
	if lc, ok := store.(layoutChecker); ok {
		if err := lc.checkLayout(); err != nil {
			return nil, err
		}
	}
	if err := v.loadHeaderLocked(); err != nil {
		return nil, err
	}
	if _, err := v.loadManifestLocked(); err != nil {
		return nil, err
	}
	return v, nil
}

func (o options) lockContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || o.lockTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, o.lockTimeout)
}

// loadHeaderLocked (re)reads vault.json and unwraps the data key.
func (v *Vault) loadHeaderLocked() error { return v.readHeaderLocked(false) }

// reloadHeaderLocked re-reads vault.json whatever its stamp says: after a
// blob failed to open, the header may have changed under a stamp that
// looks the same (an inode reused within one clock tick, and a header's
// first bytes, unlike a sealed blob's nonce, are always alike).
func (v *Vault) reloadHeaderLocked() error { return v.readHeaderLocked(true) }

func (v *Vault) readHeaderLocked(force bool) error {
	st, err := v.store.Stamp(headerName)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", v.dir, ErrNoVault)
	}
	if err != nil {
		return err
	}
	if v.hdr != nil && st == v.hdrStamp && !force {
		return nil
	}
	data, err := v.store.Read(headerName)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", v.dir, ErrNoVault)
	}
	if err != nil {
		return err
	}
	if v.hdr != nil && bytes.Equal(data, v.hdrRaw) {
		// Same header: only its stamp moved (a recent write settled).
		v.hdrStamp = st
		return nil
	}
	h, err := parseHeader(data)
	if err != nil {
		return err
	}
	if v.hdr != nil && h.VaultID != v.hdr.VaultID {
		return fmt.Errorf("%w: vault id changed under an open vault", ErrTampered)
	}
	if len(v.identities) == 0 {
		return ErrWrongKey
	}
	dek, err := unwrapDataKey(h.DataKey, v.identities)
	if err != nil {
		return err
	}
	keys, err := envelope.DeriveKeys(dek, h.VaultID)
	if err != nil {
		clear(dek)
		return err
	}
	if err := h.check(keys); err != nil {
		clear(dek)
		return err
	}
	v.dek.wipe()
	v.hdr, v.keys, v.dek, v.hdrStamp, v.hdrRaw = h, keys, &dataKey{b: dek}, st, data
	v.cache = map[records.ID]*records.Record{}
	if v.man != nil {
		v.man = v.man.clone() // drops file names derived under the old key
	}
	return nil
}

// loadManifestLocked refreshes the manifest if it changed on disk. It
// reports whether it did.
func (v *Vault) loadManifestLocked() (bool, error) {
	st, err := v.store.Stamp(manifestName)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err == nil && v.man != nil && st == v.manStamp {
		return false, nil
	}
	man, st, err := v.readManifest(v.keys)
	// Another process may be rotating the data key: re-read the header
	// and try again. The rotation's last steps (the new manifest in
	// place, manifest.next removed) may fall between this reader's two
	// reads, hence more than one try.
	for try := 0; try < 3 && errors.Is(err, ErrTampered); try++ {
		if herr := v.reloadHeaderLocked(); herr != nil {
			return false, herr
		}
		man, st, err = v.readManifest(v.keys)
	}
	if err != nil {
		return false, err
	}
	if man.Generation < v.highWater {
		return false, fmt.Errorf("manifest generation %d, already saw %d: %w", man.Generation, v.highWater, ErrRollback)
	}
	v.highWater = man.Generation
	v.setManifestLocked(man, st)
	return true, nil
}

// setManifestLocked installs a manifest read or written under stamp st and
// drops every cached record it does not list at the cached generation:
// a hot Get serves the cache on the manifest's stamp alone.
func (v *Vault) setManifestLocked(man *manifest, st Stamp) {
	v.man, v.manStamp = man, st
	for id, r := range v.cache {
		if e := man.Entries[id]; e == nil || e.Generation != r.Generation {
			delete(v.cache, id)
		}
	}
}

// readManifest reads and opens the manifest. During a key rotation the new
// manifest waits as manifest.next.avm until the new header is in place:
// when the current one does not open with keys, the next one is tried.
func (v *Vault) readManifest(keys *envelope.Keys) (*manifest, Stamp, error) {
	man, st, err := readManifestFile(v.store, keys, manifestName)
	if err == nil || !(errors.Is(err, ErrTampered) || errors.Is(err, fs.ErrNotExist)) {
		return man, st, err
	}
	if nman, nst, nerr := readManifestFile(v.store, keys, manifestNextName); nerr == nil {
		return nman, nst, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Stamp{}, fmt.Errorf("%s: %w", manifestName, ErrMissing)
	}
	return nil, Stamp{}, err
}

func readManifestFile(store Store, keys *envelope.Keys, name string) (*manifest, Stamp, error) {
	st, err := store.Stamp(name)
	if err != nil {
		return nil, Stamp{}, err
	}
	blob, err := store.Read(name)
	if err != nil {
		return nil, Stamp{}, err
	}
	pt, err := keys.Open(envelope.BlobManifest, manifestName, blob)
	if err != nil {
		return nil, Stamp{}, fmt.Errorf("%s: %w", manifestName, err)
	}
	man, err := unmarshalManifest(pt)
	if err != nil {
		return nil, Stamp{}, err
	}
	return man, st, nil
}

func writeManifest(store Store, keys *envelope.Keys, name string, man *manifest) error {
	blob, err := keys.Seal(envelope.BlobManifest, manifestName, man.marshal())
	if err != nil {
		return err
	}
	return store.Write(name, blob)
}

// recordBase is the record's opaque storage name without generation: the
// name its envelope is bound to.
func recordBase(keys *envelope.Keys, id records.ID) string {
	return recordsDir + "/" + keys.FileName("record\x00"+id.String())
}

// recordFile is where generation gen of a record lives. Every write makes a
// new file, so an uncommitted write never touches the file the manifest
// names, and a failed batch leaves only unreferenced files behind.
func recordFile(base string, gen uint64) string {
	return base + "." + strconv.FormatUint(gen, 16) + ".avr"
}

// parseRecordFile splits a stored record name into base and generation.
func parseRecordFile(name string) (base string, gen uint64, ok bool) {
	rest, found := strings.CutSuffix(name, ".avr")
	if !found {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return "", 0, false
	}
	gen, err := strconv.ParseUint(rest[i+1:], 16, 64)
	if err != nil {
		return "", 0, false
	}
	return rest[:i], gen, true
}

func randRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("authvault: crypto/rand failed: " + err.Error())
	}
}

// ID returns the vault's random id.
func (v *Vault) ID() string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.hdr.VaultID
}

// Dir returns the directory (or store address) the vault was opened at.
func (v *Vault) Dir() string { return v.dir }

// Recipients returns the public keys of the vault's key slots.
func (v *Vault) Recipients() []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return append([]string(nil), v.hdr.Recipients...)
}

// Created returns when the vault was created.
func (v *Vault) Created() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.hdr.Created
}

// Close releases the vault. Records returned earlier stay valid.
func (v *Vault) Close() error {
	if v.closed.Swap(true) {
		return nil
	}
	v.mu.Lock()
	v.cache = nil
	v.keys = nil
	v.dek.wipe()
	v.dek = nil
	v.mu.Unlock()
	return v.store.Close()
}

func (v *Vault) check() error {
	if v.closed.Load() {
		return ErrClosed
	}
	return nil
}

// Get returns a copy of the record with the given id.
//
// A hot Get (nothing changed since the record was last read) costs one
// stat of the manifest and a map lookup. Otherwise the manifest is
// re-read if it changed and the record's file is read, authenticated and
// checked against the manifest's generation.
func (v *Vault) Get(ctx context.Context, id records.ID) (*records.Record, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	st, stErr := v.store.Stamp(manifestName)
	if stErr == nil {
		v.mu.RLock()
		if st == v.manStamp {
			if r := v.cache[id]; r != nil {
				c := r.Clone()
				v.mu.RUnlock()
				return c, nil
			}
		}
		v.mu.RUnlock()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cache == nil {
		return nil, ErrClosed
	}
	// The stat above already says whether the manifest changed: only a
	// changed (or unreadable) one is stat'ed and read again.
	if stErr != nil || v.man == nil || st != v.manStamp {
		if _, err := v.loadManifestLocked(); err != nil {
			return nil, err
		}
	}
	e := v.man.Entries[id]
	if e == nil {
		return nil, &RecordError{ID: id, Err: ErrNotFound}
	}
	if r := v.cache[id]; r != nil && r.Generation == e.Generation {
		return r.Clone(), nil
	}
	if e.file == "" {
		e.file = recordBase(v.keys, id)
	}
	r, err := readRecordAt(v.store, v.keys, id, e.file, e.Generation)
	// A commit may have replaced the version the manifest named (its file
	// is removed once superseded), or a key rotation moved every record:
	// read again with a fresh header and manifest while they change.
	for try := 0; try < 16 && (errors.Is(err, ErrTampered) || errors.Is(err, ErrMissing)); try++ {
		if herr := v.reloadHeaderLocked(); herr != nil {
			break
		}
		changed, merr := v.loadManifestLocked()
		if merr != nil || !changed {
			break
		}
		if e = v.man.Entries[id]; e == nil {
			return nil, &RecordError{ID: id, Err: ErrNotFound}
		}
		r, err = readRecord(v.store, v.keys, id, e.Generation)
	}
	if err != nil {
		return nil, err
	}
	v.cache[id] = r
	return r.Clone(), nil
}

// GetLatest is Get: both check the manifest on every call. It names the
// intent where acting on a superseded record would do harm, such as
// inside a lock before spending a single-use refresh token.
func (v *Vault) GetLatest(ctx context.Context, id records.ID) (*records.Record, error) {
	return v.Get(ctx, id)
}

// readRecord reads, authenticates and checks the record id at generation
// gen, bypassing every cache.
func readRecord(store Store, keys *envelope.Keys, id records.ID, gen uint64) (*records.Record, error) {
	return readRecordAt(store, keys, id, recordBase(keys, id), gen)
}

func readRecordAt(store Store, keys *envelope.Keys, id records.ID, base string, gen uint64) (*records.Record, error) {
	blob, err := store.Read(recordFile(base, gen))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &RecordError{ID: id, Err: ErrMissing}
	}
	if err != nil {
		return nil, &RecordError{ID: id, Err: err}
	}
	pt, err := keys.Open(envelope.BlobRecord, base, blob)
	if err != nil {
		return nil, &RecordError{ID: id, Err: err}
	}
	r, err := records.Unmarshal(pt)
	clear(pt)
	if err != nil {
		return nil, &RecordError{ID: id, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	if r.ID() != id {
		return nil, &RecordError{ID: id, Err: ErrTampered}
	}
	if r.Generation < gen {
		return nil, &RecordError{ID: id, Err: fmt.Errorf("generation %d, manifest says %d: %w", r.Generation, gen, ErrRollback)}
	}
	if r.Generation > gen {
		return nil, &RecordError{ID: id, Err: fmt.Errorf("generation %d, manifest says %d: %w", r.Generation, gen, ErrCorrupt)}
	}
	return r, nil
}

// List returns the manifest's entries that match f, sorted by provider,
// namespace and label, without decrypting any record.
func (v *Vault) List(ctx context.Context, f Filter) ([]Entry, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.loadManifestLocked(); err != nil {
		return nil, err
	}
	return listEntries(v.man, f), nil
}

func listEntries(man *manifest, f Filter) []Entry {
	var out []Entry
	for _, id := range man.sortedIDs() {
		if !f.match(id) {
			continue
		}
		e := man.Entries[id]
		out = append(out, Entry{ID: id, Kind: e.Kind, Generation: e.Generation, Updated: e.Updated})
	}
	return out
}

// Put stores r, replacing any record with the same ID, and returns the
// stored copy (Generation, Updated and, for a new record, Created set).
func (v *Vault) Put(ctx context.Context, r *records.Record) (*records.Record, error) {
	var out *records.Record
	err := v.Batch(ctx, func(b *Batch) error {
		var err error
		out, err = b.put(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Update is the vault's read-modify-write. Under the cross-process lock it
// reads the record from disk (never from the cache), calls fn on it, and
// stores the result. Concurrent updaters in any number of processes are
// serialized, so none loses another's change. If fn returns an error
// nothing is written and Update returns that error.
func (v *Vault) Update(ctx context.Context, id records.ID, fn func(*records.Record) error) (*records.Record, error) {
	var out *records.Record
	err := v.Batch(ctx, func(b *Batch) error {
		r, err := b.Get(id)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		if r.ID() != id {
			return &RecordError{ID: id, Err: errors.New("Update may not change a record's provider, namespace or label")}
		}
		out, err = b.put(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes the record with the given id.
func (v *Vault) Delete(ctx context.Context, id records.ID) error {
	return v.Batch(ctx, func(b *Batch) error { return b.Delete(id) })
}

// dataKey holds the vault's data key behind a pointer, so that printing a
// Vault (or a struct holding one) with any verb shows an address, and
// printing the key itself shows nothing.
type dataKey struct{ b []byte }

func (k *dataKey) wipe() {
	if k != nil {
		clear(k.b)
	}
}

// Format implements fmt.Formatter: a data key never prints.
func (*dataKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[REDACTED]")) }

// Format implements fmt.Formatter: a Vault prints as its directory, never
// its keys, whatever the verb.
func (v *Vault) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "vault.Vault{%s}", v.dir) }
