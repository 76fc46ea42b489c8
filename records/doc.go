// Package records defines what a credential is in authvault, and how it is
// encoded. It has no I/O: package vault stores records, and
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
// Package vault seals every blob it stores (records, the manifest, state)
// in an authenticated envelope bound to the vault, the blob's kind and its
// name; SECURITY.md describes the format. A blob that does not open is
// ErrTampered (modified, moved, swapped or under another key),
// ErrEnvelopeFormat (not an envelope) or ErrEnvelopeVersion (a version
// this build does not read).
package records
