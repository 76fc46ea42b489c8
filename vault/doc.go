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
// crash leaves at worst unreferenced files of an unacknowledged write;
// later commits remove them once they are a minute old, Sweep at once.
// Readers take no lock.
//
// The directory is treated as hostile: every file is reached through
// directory handles and never through a symbolic link, only regular
// files are read (opened non-blocking, so a FIFO cannot hang anyone),
// and a file larger than its kind of blob can be is refused before it is
// read.
//
// Tampering is detected and reported with typed errors: ErrTampered (any
// byte changed, truncation, swapped files), ErrRollback (an older copy of a
// record, or of the manifest, put back), ErrMissing (a record file
// deleted), ErrWrongKey, *PermissionError (loose modes, symlinks, FIFOs).
// Verify checks everything and reports every problem at once. A
// rolled-back manifest fails closed: while authentic record files newer
// than it remain, nothing is written or removed, and Repair rebuilds it.
//
// What is not detected: a rollback of the whole directory to an older,
// consistent copy, by a process that never saw the newer one.
//
// Decrypted records are cached; a cached record is served while the
// manifest's stamp (inode, size, modification time: one stat) is
// unchanged and its generation is the same. Writers make every version's
// modification time later than the one it replaces, so a stamp never
// repeats.
//
// State blobs (the pool's cooldowns and counters) are rewritten in place
// under the vault lock and an exclusive flock of the file, which readers
// take shared, without fsync: cheap enough for every burst of rate limits
// (replacing a file by rename costs a hundred times more on ext4), and
// checked with one stat (StateChanged). A crash in the middle of a write
// leaves a blob that fails authentication and is started afresh: state
// holds only what may be lost. On Windows they are replaced by rename.
//
// # Other stores
//
// WithStore replaces the directory with any Store: the seam through which
// a shared backend keeps the same sealed blobs. A store package registers
// its URL scheme (Register) when imported, as a database/sql driver does;
// OpenURL then opens such a URL, and StoreID reads the id of the vault in
// it. Package redisstore is one: import it to accept redis:// URLs.
package vault
