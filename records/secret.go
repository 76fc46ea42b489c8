package records

import (
	"errors"
	"fmt"
	"log/slog"
)

// Redacted is what a Secret prints as, whatever the verb or encoder.
const Redacted = "[REDACTED]"

// Secret holds credential material: an access or refresh token, an API key.
//
// It prints as [REDACTED] through fmt (every verb), log/slog and
// encoding/json, so a Secret that reaches a log line, an error or a panic
// message by accident leaks nothing. Reading the value takes an explicit
// call to Reveal, which only code that must send or store the secret makes.
type Secret string

// Reveal returns the secret's plaintext. Never log or format the result.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// Format implements fmt.Formatter so that no verb (%x, %q, %s, %d, %#v…)
// can reach the underlying bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(`records.Secret("` + Redacted + `")`))
		return
	}
	_, _ = f.Write([]byte(Redacted))
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText implements encoding.TextMarshaler, which encoding/json,
// encoding/xml and many loggers use for values. The record codec does
// not: it reveals secrets explicitly into its own wire structure.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// ErrGobSecret is returned when a Secret is given to encoding/gob, which
// would otherwise write it in clear. Encode records with Marshal.
var ErrGobSecret = errors.New("records: a Secret cannot be gob-encoded (it would be written in clear); use records.Marshal")

// GobEncode implements gob.GobEncoder by refusing.
func (Secret) GobEncode() ([]byte, error) { return nil, ErrGobSecret }
