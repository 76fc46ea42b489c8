package records

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits for the parts of an ID, in bytes.
const (
	MaxProviderLen  = 64
	MaxNamespaceLen = 255
	MaxLabelLen     = 255
)

// DefaultNamespace is the namespace of accounts that name none.
const DefaultNamespace = "default"

// ID names one account: provider/namespace/label.
type ID struct {
	Provider  string
	Namespace string
	Label     string
}

// ErrInvalidID is wrapped by every ID validation error.
var ErrInvalidID = errors.New("invalid record id")

// String returns provider/namespace/label.
func (id ID) String() string { return id.Provider + "/" + id.Namespace + "/" + id.Label }

// ParseID parses "provider/namespace/label", or "provider/label" for the
// default namespace.
func ParseID(s string) (ID, error) {
	parts := strings.Split(s, "/")
	var id ID
	switch len(parts) {
	case 2:
		id = ID{Provider: parts[0], Namespace: DefaultNamespace, Label: parts[1]}
	case 3:
		id = ID{Provider: parts[0], Namespace: parts[1], Label: parts[2]}
	default:
		return ID{}, fmt.Errorf("%w: want provider/namespace/label, got %d parts", ErrInvalidID, len(parts))
	}
	if err := id.Validate(); err != nil {
		return ID{}, err
	}
	return id, nil
}

// Validate checks every part: the provider is a lower-case id
// ([a-z0-9][a-z0-9._-]*), namespace and label are valid UTF-8 without '/'
// or control characters, and every part is non-empty and bounded.
func (id ID) Validate() error {
	if err := validProvider(id.Provider); err != nil {
		return err
	}
	if err := validPart("namespace", id.Namespace, MaxNamespaceLen); err != nil {
		return err
	}
	return validPart("label", id.Label, MaxLabelLen)
}

func validProvider(p string) error {
	if p == "" {
		return fmt.Errorf("%w: empty provider", ErrInvalidID)
	}
	if len(p) > MaxProviderLen {
		return fmt.Errorf("%w: provider longer than %d bytes", ErrInvalidID, MaxProviderLen)
	}
	for i, c := range []byte(p) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_' || c == '.')
		if !ok {
			return fmt.Errorf("%w: provider %q: only lower-case letters, digits, '-', '_' and '.'", ErrInvalidID, p)
		}
	}
	return nil
}

func validPart(what, s string, max int) error {
	if s == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalidID, what)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidID, what, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidID, what)
	}
	if s == "." || s == ".." {
		return fmt.Errorf("%w: %s may not be %q", ErrInvalidID, what, s)
	}
	for _, r := range s {
		if r == '/' || r == '\\' || unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("%w: %s %q holds '/', '\\' or a control character", ErrInvalidID, what, s)
		}
	}
	return nil
}
