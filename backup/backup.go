package backup

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"filippo.io/age/plugin"

	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
)

// Format tags the plaintext of a backup in this format's version.
const Format = "authvault-backup/1"

// MaxSize bounds the plaintext of a backup that Unmarshal and Decrypt
// accept.
const MaxSize = 1 << 30

// ErrInvalid is wrapped by every error of Unmarshal.
var ErrInvalid = errors.New("not a valid authvault backup")

// Bundle is the plaintext of a backup: a JSON object
//
//	{"format":"authvault-backup/1","vault_id":…,"exported":RFC 3339,
//	 "identity":…,"records":[…]}
//
// whose records are each in the records package's canonical encoding.
// "identity" is left out of a backup made without the key, "records" out
// of a key-only backup.
type Bundle struct {
	VaultID  string
	Exported time.Time
	// Identity is the vault key as identity-file text; "" when the backup
	// holds no key.
	Identity string
	// Records are the vault's records; HasRecords is false for a
	// key-only backup.
	Records    []*records.Record
	HasRecords bool
}

type bundleWire struct {
	Format   string             `json:"format"`
	VaultID  string             `json:"vault_id"`
	Exported string             `json:"exported"`
	Identity *string            `json:"identity,omitempty"`
	Records  *[]json.RawMessage `json:"records,omitempty"`
}

// Marshal encodes b. The result holds secrets in plaintext: encrypt it
// (Encrypt) and clear it.
func Marshal(b *Bundle) ([]byte, error) {
	w := bundleWire{Format: Format, VaultID: b.VaultID, Exported: b.Exported.UTC().Format(time.RFC3339)}
	if b.Identity != "" {
		w.Identity = &b.Identity
	}
	if b.HasRecords {
		raws := make([]json.RawMessage, 0, len(b.Records))
		for _, r := range b.Records {
			enc, err := records.Marshal(r)
			if err != nil {
				return nil, err
			}
			raws = append(raws, enc)
		}
		w.Records = &raws
		defer func() {
			for _, r := range raws {
				clear(r)
			}
		}()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Unmarshal decodes and checks a backup's plaintext completely: the
// format tag, the vault id and export time, the identity (when present)
// and every record, which must be in canonical form and valid, with no id
// twice. Unknown fields and trailing data are errors. Errors wrap
// ErrInvalid and never quote the input.
func Unmarshal(data []byte) (*Bundle, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrInvalid, MaxSize>>20)
	}
	var w bundleWire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the backup object", ErrInvalid)
	}
	if w.Format != Format {
		if strings.HasPrefix(w.Format, "authvault-backup/") {
			return nil, fmt.Errorf("%w: format %q is newer than this version reads (%s)", ErrInvalid, w.Format, Format)
		}
		return nil, fmt.Errorf("%w: no %q format tag", ErrInvalid, Format)
	}
	if w.VaultID == "" {
		return nil, fmt.Errorf("%w: no vault id", ErrInvalid)
	}
	b := &Bundle{VaultID: w.VaultID}
	t, err := time.Parse(time.RFC3339, w.Exported)
	if err != nil {
		return nil, fmt.Errorf("%w: export time is not RFC 3339", ErrInvalid)
	}
	b.Exported = t
	if w.Identity != nil {
		if err := checkIdentity(*w.Identity); err != nil {
			return nil, fmt.Errorf("%w: identity: %v", ErrInvalid, err)
		}
		b.Identity = *w.Identity
	}
	if w.Records != nil {
		b.HasRecords = true
		seen := make(map[records.ID]bool, len(*w.Records))
		for i, raw := range *w.Records {
			r, err := records.Unmarshal(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: record %d: %v", ErrInvalid, i+1, err)
			}
			if seen[r.ID()] {
				return nil, fmt.Errorf("%w: record %s appears twice", ErrInvalid, r.ID())
			}
			seen[r.ID()] = true
			b.Records = append(b.Records, r)
		}
	}
	if b.Identity == "" && !b.HasRecords {
		return nil, fmt.Errorf("%w: it holds neither a key nor records", ErrInvalid)
	}
	return b, nil
}

// checkIdentity checks identity-file text. A plugin identity whose plugin
// is not installed here is accepted: the backup is not wrong for that.
func checkIdentity(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	_, err := keysource.ParseIdentities([]byte(s))
	var nf *plugin.NotFoundError
	if err != nil && !errors.As(err, &nf) {
		return err
	}
	return nil
}

// describeJSONError says what is wrong with JSON input without quoting it:
// a syntax error's message quotes the offending character, which could be
// part of a secret.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("JSON syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of input (truncated?)"
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown field " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	return "malformed JSON"
}

// Encrypt writes plaintext to w as an armored age file encrypted to
// recipients: what `age -d` decrypts with a matching identity or the
// passphrase.
func Encrypt(w io.Writer, plaintext []byte, recipients []age.Recipient) error {
	aw := armor.NewWriter(w)
	ew, err := age.Encrypt(aw, recipients...)
	if err != nil {
		return err
	}
	if _, err := ew.Write(plaintext); err != nil {
		return err
	}
	if err := ew.Close(); err != nil {
		return err
	}
	return aw.Close()
}

// Decrypt decrypts an age file, armored or not, with the first identity
// that matches, and returns its plaintext (at most MaxSize bytes). Truncation and tampering are errors: age authenticates every
// chunk and the end of the file.
func Decrypt(r io.Reader, identities ...age.Identity) ([]byte, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	head, _ := br.Peek(len(armor.Header) + 64)
	if bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte(armor.Header)) {
		src = armor.NewReader(br)
	}
	dr, err := age.Decrypt(src, identities...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			if slices.Contains(nm.StanzaTypes, "scrypt") {
				return nil, errors.New("incorrect passphrase")
			}
			return nil, fmt.Errorf("no identity given opens it (it is encrypted to: %s): pass the matching identity file with -i", strings.Join(slices.Compact(slices.Sorted(slices.Values(nm.StanzaTypes))), ", "))
		}
		// age's header errors may quote the start of the input, which
		// is not a backup and might be a secret: say what, not where.
		switch msg := err.Error(); {
		case strings.Contains(msg, "unexpected intro"):
			return nil, errors.New("not an age-encrypted file (a backup starts with " + armor.Header + ")")
		case strings.HasPrefix(msg, "failed to read header"), strings.HasPrefix(msg, "failed to read nonce"):
			return nil, errors.New("the age header is damaged, or the file is truncated")
		}
		return nil, err // an identity's own error, such as no passphrase
	}
	data, err := io.ReadAll(io.LimitReader(dr, MaxSize+1))
	if err != nil {
		clear(data)
		return nil, fmt.Errorf("decrypting: the file is truncated or was modified: %w", err)
	}
	if len(data) > MaxSize {
		clear(data)
		return nil, fmt.Errorf("the backup is larger than %d MiB", MaxSize>>20)
	}
	return data, nil
}
