// Package backup reads and writes authvault backups: a vault's records,
// and optionally its key, in one file that outlives the vault and that
// the age command line tool can open.
//
// A backup is an age file (armored: it starts with
// "-----BEGIN AGE ENCRYPTED FILE-----") encrypted to whatever recipients
// the person making it chose: a passphrase, an age public key, a YubiKey
// through an age plugin. Anyone with a matching identity reads it with
// age alone, without authvault:
//
//	age -d -i key.txt backup.age > backup.json
//
// Inside is one JSON object, the Bundle:
//
//	{"format":"authvault-backup/1","vault_id":"…","exported":"2026-01-02T03:04:05Z",
//	 "identity":"AGE-SECRET-KEY-1…","records":[{"v":1,…},…]}
//
// format names this version of the layout; vault_id is the id of the vault
// the backup was made from, exported when (RFC 3339, UTC). identity, the
// vault key as age identity-file text, is absent from a backup made
// without the key; records, absent from a key-only backup, holds every
// record in the canonical plaintext encoding of package records
// (records.Marshal), so a record reads back byte for byte as it was.
//
// To make a backup, Marshal a Bundle and Encrypt the result; to read one,
// Decrypt and Unmarshal. The plaintext holds every secret in the clear:
// clear it once it is encrypted or decoded.
//
//	plain, err := backup.Marshal(&backup.Bundle{VaultID: v.ID(), Exported: time.Now(), Records: recs, HasRecords: true})
//	defer clear(plain)
//	err = backup.Encrypt(f, plain, recipients)
//
// Unmarshal is strict, like the records codec whose values it carries: an
// unknown field, trailing data, a record not in canonical form or invalid,
// the same record twice or a malformed identity is an error wrapping
// ErrInvalid, and no error quotes the input. Decrypt authenticates the
// whole file (age checks every chunk and the end), so a truncated or
// modified backup is an error, never a shorter bundle. Both refuse more
// than MaxSize bytes of plaintext.
//
// A later format gets a new tag ("authvault-backup/2"); Unmarshal says so
// rather than guessing at it. The vaultkey command's export and import
// are built on this package.
package backup
