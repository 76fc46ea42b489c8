package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/records"
)

// Batch is a set of changes committed together: every record write first,
// then one manifest commit. Until that commit nothing is visible to
// readers; a batch whose function fails, or a process that dies in the
// middle, leaves the vault exactly as it was.
type Batch struct {
	ctx  context.Context
	v    *Vault
	keys *envelope.Keys
	man  *manifest
	gen  uint64
	base Stamp // manifest.avm as of the lock, for a FencedStore commit
	puts map[records.ID]*records.Record
	dels map[records.ID]string // id -> file to remove after commit
}

// Batch runs fn with the vault's write lock held (in this process and
// across processes) and commits what fn staged when it returns nil.
// Reads through the Batch see the disk as of the lock, plus fn's own
// staged changes.
func (v *Vault) Batch(ctx context.Context, fn func(b *Batch) error) error {
	return v.locked(ctx, func(keys *envelope.Keys, man *manifest, base Stamp) error {
		// The record files as of the lock: an authenticated one newer
		// than the manifest means the manifest was rolled back, and no
		// commit may bury that evidence.
		files, err := v.store.List(recordsDir)
		if err != nil {
			return err
		}
		if err := checkNewer(v.store, keys, man, files); err != nil {
			return err
		}
		b := &Batch{ctx: ctx, v: v, keys: keys, man: man, gen: man.Generation + 1, base: base,
			puts: map[records.ID]*records.Record{}, dels: map[records.ID]string{}}
		if err := fn(b); err != nil {
			return err
		}
		if len(b.puts) == 0 && len(b.dels) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.commit(); err != nil {
			return err
		}
		// Committed: collect what interrupted writes left behind.
		orphans, _ := classify(v.store, keys, b.man, files)
		v.tidy(files, orphans, debrisAge)
		return nil
	})
}

// locked runs fn with the vault's write lock held (in this process and
// across processes), the header re-read and the manifest as of the lock:
// fn gets the current keys, a copy of the manifest it may change, and
// the manifest's stamp for a FencedStore commit.
func (v *Vault) locked(ctx context.Context, fn func(keys *envelope.Keys, man *manifest, base Stamp) error) error {
	if err := v.check(); err != nil {
		return err
	}
	lctx, cancel := v.opts.lockContext(ctx)
	defer cancel()
	unlock, err := v.store.Lock(lctx, "")
	if err != nil {
		return err
	}
	defer unlock()
	base, err := manifestBase(v.store)
	if err != nil {
		return err
	}

	v.mu.Lock()
	if v.cache == nil {
		v.mu.Unlock()
		return ErrClosed
	}
	// A writer must seal under the current key: read the header itself,
	// not only its stamp (see reloadHeaderLocked).
	err = v.reloadHeaderLocked()
	if err == nil {
		_, err = v.loadManifestLocked()
	}
	var keys *envelope.Keys
	var man *manifest
	if err == nil {
		keys, man = v.keys, v.man.clone()
	}
	v.mu.Unlock()
	if err != nil {
		return err
	}
	return fn(keys, man, base)
}

// Get returns the record as committed on disk (never from the cache), or
// as staged earlier in this batch.
func (b *Batch) Get(id records.ID) (*records.Record, error) {
	if r, ok := b.puts[id]; ok {
		return r.Clone(), nil
	}
	if _, ok := b.dels[id]; ok {
		return nil, &RecordError{ID: id, Err: ErrNotFound}
	}
	e := b.man.Entries[id]
	if e == nil {
		return nil, &RecordError{ID: id, Err: ErrNotFound}
	}
	return readRecord(b.v.store, b.keys, id, e.Generation)
}

// Put stages r to replace any record with the same ID.
func (b *Batch) Put(r *records.Record) error {
	_, err := b.put(r)
	return err
}

func (b *Batch) put(r *records.Record) (*records.Record, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	c := r.Clone()
	id := c.ID()
	now := b.v.opts.now().UTC()
	if c.Created.IsZero() {
		c.Created = now
		if old, err := b.Get(id); err == nil {
			c.Created = old.Created
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	c.Updated = now
	c.Generation = b.gen
	if _, err := records.Marshal(c); err != nil {
		return nil, err
	}
	delete(b.dels, id)
	b.puts[id] = c
	return c.Clone(), nil
}

// Delete stages the removal of a record. Deleting a missing record is
// ErrNotFound.
func (b *Batch) Delete(id records.ID) error {
	if _, ok := b.puts[id]; ok {
		delete(b.puts, id)
		if b.man.Entries[id] == nil {
			return nil
		}
	} else if b.man.Entries[id] == nil {
		return &RecordError{ID: id, Err: ErrNotFound}
	}
	b.dels[id] = ""
	return nil
}

// List returns the entries matching f as they will be after the batch.
func (b *Batch) List(f Filter) []Entry {
	m := b.man.clone()
	for id := range b.dels {
		delete(m.Entries, id)
	}
	for id, r := range b.puts {
		m.Entries[id] = &entry{Kind: r.Kind, Generation: r.Generation, Updated: r.Updated}
	}
	return listEntries(m, f)
}

func (b *Batch) commit() error {
	store, keys := b.v.store, b.keys
	var superseded []string
	for id, r := range b.puts {
		pt, err := records.Marshal(r)
		if err != nil {
			return &RecordError{ID: id, Err: err}
		}
		base := recordBase(keys, id)
		blob, err := keys.Seal(envelope.BlobRecord, base, pt)
		clear(pt)
		if err != nil {
			return err
		}
		if err := store.Write(recordFile(base, b.gen), blob); err != nil {
			return &RecordError{ID: id, Err: err}
		}
		if old := b.man.Entries[id]; old != nil {
			superseded = append(superseded, recordFile(base, old.Generation))
		}
		b.man.Entries[id] = &entry{Kind: r.Kind, Generation: b.gen, Updated: r.Updated}
	}
	for id := range b.dels {
		if old := b.man.Entries[id]; old != nil {
			superseded = append(superseded, recordFile(recordBase(keys, id), old.Generation))
		}
		delete(b.man.Entries, id)
	}
	b.man.Generation = b.gen
	if err := commitManifest(store, keys, b.man, b.base); err != nil {
		return fmt.Errorf("committing the manifest: %w", err)
	}
	// Committed. What follows only tidies up; a failure leaves
	// unreferenced files for Sweep.
	st, stErr := store.Stamp(manifestName)
	for _, f := range superseded {
		_ = store.Remove(f)
	}
	v := b.v
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cache == nil || v.keys != keys {
		return nil
	}
	for id := range b.dels {
		delete(v.cache, id)
	}
	for id, r := range b.puts {
		v.cache[id] = r
	}
	if stErr == nil {
		v.setManifestLocked(b.man, st)
		if b.gen > v.highWater {
			v.highWater = b.gen
		}
	} else {
		v.man = nil
		clear(v.cache)
	}
	return nil
}

// manifestBase is the version of manifest.avm a batch starts from, taken
// right after the lock and before the manifest is read, so that a
// conditional commit fails if anything replaced the manifest since.
// Stores without conditional writes skip the round trip.
func manifestBase(store Store) (Stamp, error) {
	if _, ok := store.(FencedStore); !ok {
		return Stamp{}, nil
	}
	st, err := store.Stamp(manifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return Stamp{}, nil
	}
	return st, err
}

// commitManifest writes manifest.avm, on condition that it is still the
// version base when the store can make the write conditional.
func commitManifest(store Store, keys *envelope.Keys, man *manifest, base Stamp) error {
	fenced, ok := store.(FencedStore)
	if !ok {
		return writeManifest(store, keys, manifestName, man)
	}
	blob, err := keys.Seal(envelope.BlobManifest, manifestName, man.marshal())
	if err != nil {
		return err
	}
	return fenced.WriteIf(manifestName, blob, base)
}
