// Package records defines what a credential is in authvault, and how it is
// encoded and sealed. It has no I/O: package vault stores records, and
// everything above the vault reads them.
//
// A Record is one account's credential: its identity (Provider, Namespace,
// Label, together its ID, printed provider/namespace/label), its Kind and
// the secret fields for that kind (OAuth tokens, an API key, or a token
// for a well-known auth URL), non-secret Meta, and the vault's bookkeeping
// (Created, Updated, Generation). Validate says whether a record can be
// stored; Clone copies one deeply.
//
// Every credential value is a Secret. A Secret prints as [REDACTED]
// through every fmt verb, log/slog, encoding/json and text marshaling, and
// encoding/gob refuses it, so a record that reaches a log line, an error
// or a panic leaks nothing. Reveal is the one way to the plaintext: call
// it only where the secret is sent or stored, never to format it.
//
// # The plaintext codec
//
// Marshal and Unmarshal are the record's one encoding, a versioned JSON
// object ({"v":1,…}). It is canonical and strict: Unmarshal accepts
// exactly what Marshal writes (it re-encodes and compares), so unknown
// versions and fields, duplicate members, reordered or re-spaced input,
// and records larger than MaxRecordSize are errors, and
// Unmarshal(Marshal(r)) equals r. Backups (package backup) carry records
// in this encoding.
//
// # The sealed envelope
//
// DeriveKeys derives from a vault's 32-byte data key, with HKDF-SHA256,
// one key per purpose (records, manifest, state, the header MAC, file
// names). Keys.Seal then encrypts a blob with AES-256-GCM under a random
// nonce, in an envelope of magic, version and blob kind, and binds the
// vault id, the kind and the blob's name into the additional data, so
// that Keys.Open refuses a blob moved to another name, swapped with
// another kind or replayed into another vault (ErrTampered). Keys.FileName
// maps a record id to an HMAC, so file names reveal no account.
//
// Most programs never call the envelope functions: package vault does.
// They are here, beside the codec, so that the format of a vault's files
// is defined in one place and fuzzed (see the fuzz package).
package records
