// Package vault keeps credential records encrypted at rest in a directory
// that any number of processes may use at once.
//
// Most programs call Open with the identities from package keysource, then
// Get to read an account's record and Update to change it:
//
//	v, err := vault.Open(ctx, dir, identities)
//	rec, err := v.Get(ctx, records.ID{Provider: "anthropic", Namespace: "default", Label: "me@example.com"})
//	_, err = v.Update(ctx, rec.ID(), func(r *records.Record) error { r.OAuth.Access = newToken; return nil })
//
// Update is the only read-modify-write: it takes the vault's lock (an
// in-process mutex and an flock on <dir>/.lock), re-reads the record from
// disk, and commits, so concurrent updaters in different processes lose
// nothing. Put replaces a record outright; Batch commits many changes at
// once, all or nothing.
//
// # Layout and encryption
//
//	<dir>/vault.json             header: vault id, recipients, the data key
//	                              wrapped with age to every recipient, a MAC
//	<dir>/manifest.avm           sealed index: id -> generation, kind, time
//	<dir>/records/<name>.<gen>.avr   one sealed record per generation
//	<dir>/state/<name>.avs       sealed state blobs of other packages
//	<dir>/.lock, <dir>/locks/    lock files, never data
//
// The vault key (an age identity: hybrid post-quantum by default, X25519,
// or a plugin such as a YubiKey) unwraps the 32-byte data key once, in
// Open. Records, the manifest and state blobs are then sealed with
// AES-256-GCM under keys derived from it with HKDF-SHA256, one per purpose;
// the additional data binds the vault id, the blob kind and the blob's
// name, so a blob moved, swapped or replayed under another name fails to
// open. File names are HMACs of the record ids and reveal nothing.
//
// # Guarantees
//
// Writes are atomic and durable: every record version is a new file
// (temporary file in the vault directory, fsync, rename, directory fsync),
// and the manifest that names it is committed after it, the same way. A
// crash leaves at worst unreferenced files of an unacknowledged write,
// which Sweep removes. Readers take no lock.
//
// Tampering is detected and reported with typed errors: ErrTampered (any
// byte changed, truncation, swapped files), ErrRollback (an older copy of a
// record, or of the manifest, put back), ErrMissing (a record file
// deleted), ErrWrongKey, *PermissionError (loose modes, symlinks). Verify
// checks everything and reports every problem at once.
//
// What is not detected: a rollback of the whole directory to an older,
// consistent copy, by a process that never saw the newer one.
//
// Decrypted records are cached; a cached record is served while the
// manifest is unchanged (its file identity, and for recent writes its
// random nonce) and its generation is the same. In a directory, change
// counters that every process maps from the file .changes tell a reader
// that no vault file was written since it last checked, so a hot Get costs
// no system call at all, and otherwise one stat; GetLatest always checks.
//
// State blobs (the pool's cooldowns and counters) are written in place,
// into the free one of two slots of their file, without fsync: atomic like
// a rename, cheap enough for every burst of rate limits.
//
// # Other stores
//
// WithStore replaces the directory with any Store: the seam through which
// a shared backend keeps the same sealed blobs.
package vault
