package records

import "errors"

// The errors of a vault's sealed envelope (see SECURITY.md), which package
// vault returns when a blob does not open.
var (
	// ErrTampered means a blob failed authentication: it was modified,
	// truncated, moved to another name, or sealed under another key.
	ErrTampered = errors.New("sealed blob failed authentication (tampered, moved or wrong key)")
	// ErrEnvelopeFormat means the blob is not an authvault envelope.
	ErrEnvelopeFormat = errors.New("not an authvault sealed blob")
	// ErrEnvelopeVersion means the envelope uses an unknown format version.
	ErrEnvelopeVersion = errors.New("unsupported sealed blob version")
)
