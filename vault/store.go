package vault

import (
	"context"
	"errors"
)

// Store is the storage seam under a vault: a flat namespace of blobs with
// atomic replacement and an exclusive lock. The vault seals every blob
// before it reaches a Store, so an implementation never sees a plaintext
// record, a record name or the data key.
//
// Names are slash-separated relative paths: "vault.json", "manifest.avm",
// "records/<name>.avr", "state/<name>.avs". The directory store (the
// default) maps them to files; another implementation (a shared database)
// may map them to keys.
type Store interface {
	// Read returns the whole blob. A missing blob is an error satisfying
	// errors.Is(err, fs.ErrNotExist).
	Read(name string) ([]byte, error)
	// Stamp returns a cheap fingerprint of the blob that changes whenever
	// Write replaces it. A missing blob is fs.ErrNotExist.
	Stamp(name string) (Stamp, error)
	// Write replaces the blob atomically and durably: after Write returns
	// a reader sees the new blob, even after a crash; before, the old one;
	// never a mix.
	Write(name string, data []byte) error
	// Remove deletes a blob; a missing one is not an error.
	Remove(name string) error
	// List returns the names of the blobs under dir ("records", "state").
	List(dir string) ([]string, error)
	// Lock takes the exclusive lock called name ("" is the vault's write
	// lock; other names are per-record locks), waiting until ctx ends. The
	// returned function releases it.
	Lock(ctx context.Context, name string) (unlock func(), err error)
	// Close releases resources.
	Close() error
}

// Stamp fingerprints a blob version. Two stamps compare equal (==) only if
// the blob is unchanged: a store must make sure that a new version never
// gets the stamp of an earlier one.
type Stamp struct {
	Version uint64 // inode for files; a version counter for other stores
	Size    int64
	ModTime int64 // Unix nanoseconds
}

// VolatileWriter is implemented by stores that can replace a blob
// atomically but without making it durable: a crash may bring back the
// previous version, never a torn one. The vault uses it for state blobs
// (cooldowns and counters), which are cheap to lose and written often.
type VolatileWriter interface {
	WriteVolatile(name string, data []byte) error
}

// FencedStore is a Store that can make a write conditional on the blob
// being unchanged. Shared stores implement it: their locks expire when a
// holder stops renewing them (a paused or partitioned process), so two
// writers may for a moment both believe they hold the vault lock. Through
// a FencedStore the vault commits its manifest with WriteIf against the
// version it started from under the lock, so the second of two such
// commits fails instead of overwriting the first.
type FencedStore interface {
	Store
	// WriteIf is Write on condition that the blob is still the version
	// prev was taken from (the zero Stamp: that there is no such blob).
	// Otherwise it writes nothing and returns an error wrapping
	// ErrConflict.
	WriteIf(name string, data []byte, prev Stamp) error
}

// ErrConflict: a conditional write (FencedStore.WriteIf) found that the
// blob changed since the writer read it: another process committed in
// between. Nothing was written; the operation may be tried again.
var ErrConflict = errors.New("the vault changed since it was read: concurrent commit")
