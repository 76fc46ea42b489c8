package migrate

import (
	"crypto/sha256"
	"errors"
	"strings"
	"time"

	"github.com/authvault/authvault/records"
)

// Found is one credential read from a source.
type Found struct {
	// Record is the credential as it would be stored: ID, kind, secrets,
	// expiry and non-secret Meta (email, plan, resource_url…). Created,
	// Updated and Generation are zero: the vault maintains them.
	Record *records.Record
	// Source is the name of the source it came from (SourceCodex…).
	Source string
	// Path is the file it came from, or "$OPENCODE_AUTH_CONTENT".
	Path string
	// Modified is when the source last changed the credential: a time the
	// file records (Codex's last_refresh), else the file's modification
	// time; zero when unknown. NewPlan compares it with a vault record's
	// Updated time when neither credential has a telling expiry.
	Modified time.Time

	// digest is the SHA-256 of the content the credential was parsed from;
	// RemoveSources deletes a file only if it still has this content.
	digest [sha256.Size]byte
	// file is set when Path is a file read by ReadFile or Discover, the
	// only ones RemoveSources may delete.
	file bool
	// complete is set when the content had no problems at all: every
	// entry of the file is in the returned Found values.
	complete bool
}

// Problem is something in a source that was not imported. Problems never
// hold a secret: they name the file and the JSON path, never a value.
type Problem struct {
	// Source is the name of the source (SourceOpenCode…).
	Source string
	// Path is the file, or "$OPENCODE_AUTH_CONTENT".
	Path string
	// Key is the JSON path of the offending entry or value, e.g.
	// "tokens.refresh_token" or `["https://auth.example.com"].token`;
	// empty when the problem concerns the whole file.
	Key string
	// Err says what is wrong. It matches one of the Err variables of this
	// package (or an fs error for a file that could not be read) with
	// errors.Is.
	Err error
}

// Error returns "source: path: key: reason".
func (p Problem) Error() string {
	parts := make([]string, 0, 4)
	for _, s := range []string{p.Source, p.Path, p.Key} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if p.Err != nil {
		parts = append(parts, p.Err.Error())
	}
	return strings.Join(parts, ": ")
}

// Unwrap returns Err.
func (p Problem) Unwrap() error { return p.Err }

// Errors found in sources. A Problem's Err matches one of them.
var (
	ErrTooLarge     = errors.New("too large")
	ErrNotRegular   = errors.New("not a regular file")
	ErrInvalidUTF8  = errors.New("not valid UTF-8")
	ErrSyntax       = errors.New("invalid JSON")
	ErrTooDeep      = errors.New("JSON nested too deeply")
	ErrDuplicateKey = errors.New("duplicate key") // two entries that name the same account
	ErrWrongType    = errors.New("wrong JSON type")
	ErrMissing      = errors.New("missing required field")
	ErrInvalidValue = errors.New("invalid value")
	ErrUnsupported  = errors.New("unsupported entry")
)
