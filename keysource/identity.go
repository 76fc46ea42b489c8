package keysource

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"unicode/utf8"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// maxKeyData bounds every piece of key material this package reads: an
// identity file, an encrypted key file, a key command's output. A vault key is
// well under a kilobyte; the bound only stops a runaway input.
const maxKeyData = 64 << 10

// Kind is the type of a newly generated vault key.
type Kind int

const (
	// PostQuantum is a hybrid ML-KEM-768 + X25519 identity
	// (AGE-SECRET-KEY-PQ-1…), safe against future quantum computers. It is
	// the zero Kind and the one to use unless something forces X25519.
	PostQuantum Kind = iota
	// X25519 is a classic age identity (AGE-SECRET-KEY-1…), readable by age
	// releases older than v1.3.
	X25519
)

// String returns "post-quantum" or "X25519".
func (k Kind) String() string {
	switch k {
	case PostQuantum:
		return "post-quantum"
	case X25519:
		return "X25519"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// GenerateIdentity creates a new random vault key of the given kind.
//
// It returns the identity, ready for decryption; its text encoding, the
// secret to hand to [Store.Store] or to put in AUTHVAULT_KEY; and the
// recipient (the public key, age1pq1… or age1…) to encrypt the vault to.
func GenerateIdentity(kind Kind) (identity age.Identity, encoded, recipient string, err error) {
	switch kind {
	case PostQuantum:
		id, err := age.GenerateHybridIdentity()
		if err != nil {
			return nil, "", "", err
		}
		return id, id.String(), id.Recipient().String(), nil
	case X25519:
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, "", "", err
		}
		return id, id.String(), id.Recipient().String(), nil
	default:
		return nil, "", "", fmt.Errorf("keysource: unknown key kind %d", int(kind))
	}
}

// parseError reports why identity data could not be parsed. It never holds
// key material: only a line number and what is wrong with that line.
type parseError struct {
	// Line is the 1-based line of the offending identity, or 0 when the
	// problem concerns the whole input (empty, too long, not UTF-8).
	Line int
	// Err says what is wrong. For a plugin identity whose plugin binary is
	// missing it is a *[plugin.NotFoundError].
	Err error
}

func (e *parseError) Error() string {
	if e.Line == 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *parseError) Unwrap() error { return e.Err }

var (
	errNoIdentities = errors.New("no identities found")
	errTooLong      = fmt.Errorf("identity data longer than %d KiB", maxKeyData>>10)
	errNotUTF8      = errors.New("identity data is not valid UTF-8")
	errRecipient    = errors.New("this is a recipient (a public key), not an identity")
	errUnknownType  = errors.New("unknown identity type (want AGE-SECRET-KEY-PQ-1…, AGE-SECRET-KEY-1… or AGE-PLUGIN-…)")
	errBadHybrid    = errors.New("malformed post-quantum identity")
	errBadX25519    = errors.New("malformed X25519 identity")
	errBadPlugin    = errors.New("malformed plugin identity")
)

// ParseIdentities parses age identities in the age identity-file format: one
// identity per line; blank lines and lines starting with "#" are ignored, as
// is white space around a line. It accepts post-quantum
// (AGE-SECRET-KEY-PQ-1…), X25519 (AGE-SECRET-KEY-1…) and plugin
// (AGE-PLUGIN-…) identities.
//
// A plugin identity is accepted only when its plugin binary (age-plugin-NAME)
// is on $PATH; otherwise the error wraps a *[plugin.NotFoundError]. Plugins
// that need to talk to the user (a PIN, a touch) do so through the terminal,
// as the age command does.
//
// The error names the offending line and what is wrong with it, and never
// contains key material. ParseIdentities does not keep or modify data; the
// caller may zero it afterwards.
func ParseIdentities(data []byte) ([]age.Identity, error) {
	return parseIdentities(data, true)
}

// parseIdentities is ParseIdentities; needPlugin false skips the check that a
// plugin binary exists, for validating a key that is about to be stored.
func parseIdentities(data []byte, needPlugin bool) ([]age.Identity, error) {
	if len(data) > maxKeyData {
		return nil, &parseError{Err: errTooLong}
	}
	if !utf8.Valid(data) {
		return nil, &parseError{Err: errNotUTF8}
	}
	var ids []age.Identity
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		id, err := parseIdentity(line, needPlugin)
		if err != nil {
			return nil, &parseError{Line: n, Err: err}
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, &parseError{Err: errNoIdentities}
	}
	return ids, nil
}

// parseIdentity parses one identity. The errors of age's parsers are not
// passed on: some quote a character of the input, and the input is a secret.
func parseIdentity(line []byte, needPlugin bool) (age.Identity, error) {
	switch {
	case bytes.HasPrefix(line, []byte("AGE-SECRET-KEY-PQ-1")):
		id, err := age.ParseHybridIdentity(string(line))
		if err != nil {
			return nil, errBadHybrid
		}
		return id, nil
	case bytes.HasPrefix(line, []byte("AGE-SECRET-KEY-1")):
		id, err := age.ParseX25519Identity(string(line))
		if err != nil {
			return nil, errBadX25519
		}
		return id, nil
	case bytes.HasPrefix(line, []byte("AGE-PLUGIN-")):
		s := string(line)
		name, _, err := plugin.ParseIdentity(s)
		if err != nil {
			return nil, errBadPlugin
		}
		if needPlugin {
			if _, err := exec.LookPath("age-plugin-" + name); err != nil {
				return nil, &plugin.NotFoundError{Name: name, Err: err}
			}
		}
		return plugin.NewIdentity(s, terminalPluginUI())
	case bytes.HasPrefix(line, []byte("age1")):
		return nil, errRecipient
	default:
		return nil, errUnknownType
	}
}

// terminalPluginUI lets a plugin show messages on standard error and ask for
// PINs on the terminal, the way the age command does.
func terminalPluginUI() *plugin.ClientUI {
	printf := func(format string, v ...any) {
		fmt.Fprintf(os.Stderr, "authvault: "+format+"\n", v...)
	}
	return plugin.NewTerminalUI(printf, printf)
}

// recipientOf returns the public key of a native identity, or "" for other
// kinds (plugins, whose recipient only the plugin knows).
func recipientOf(id age.Identity) string {
	switch id := id.(type) {
	case *age.HybridIdentity:
		return id.Recipient().String()
	case *age.X25519Identity:
		return id.Recipient().String()
	}
	return ""
}

// keyPattern matches the start of an age identity encoding: its prefix, the
// bech32 separator and a run of data characters. Text that merely names the
// formats ("AGE-SECRET-KEY-1…") or a plugin binary does not match.
var keyPattern = regexp.MustCompile(`(?i)AGE-(?:SECRET-KEY-(?:PQ-)?|PLUGIN-[a-z0-9+._-]+-)1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{8}`)

// mayHoldKey reports whether s might contain age key material, so that it is
// never copied into an error message.
func mayHoldKey(s string) bool {
	return keyPattern.MatchString(s)
}
