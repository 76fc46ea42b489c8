package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// CodecVersion is the plaintext record format version written by Marshal.
const CodecVersion = 1

// MaxRecordSize bounds an encoded record. Tokens are at most a few KiB;
// anything near this is hostile or corrupt.
const MaxRecordSize = 256 << 10

const maxMetaEntries = 64

// Codec errors.
var (
	ErrInvalidRecord      = errors.New("invalid record")
	ErrRecordTooLarge     = errors.New("record too large")
	ErrUnsupportedVersion = errors.New("unsupported record format version")
)

// wire is the JSON shape of a record. Secrets are plain strings here: this
// is the one place they are revealed, and it never leaves the codec.
type wire struct {
	V          int               `json:"v"`
	Provider   string            `json:"provider"`
	Namespace  string            `json:"namespace"`
	Label      string            `json:"label"`
	Kind       Kind              `json:"kind"`
	OAuth      *wireOAuth        `json:"oauth,omitempty"`
	API        *wireAPI          `json:"api,omitempty"`
	WellKnown  *wireWellKnown    `json:"wellknown,omitempty"`
	Meta       map[string]string `json:"meta,omitempty"`
	Position   int               `json:"position,omitempty"`
	Disabled   *wireDisabled     `json:"disabled,omitempty"`
	Created    string            `json:"created,omitempty"`
	Updated    string            `json:"updated,omitempty"`
	Generation uint64            `json:"generation"`
}

type wireOAuth struct {
	Access    string   `json:"access,omitempty"`
	Refresh   string   `json:"refresh,omitempty"`
	Expiry    string   `json:"expiry,omitempty"`
	AccountID string   `json:"account_id,omitempty"`
	IDToken   string   `json:"id_token,omitempty"`
	Scopes    []string `json:"scopes,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	TokenURL  string   `json:"token_url,omitempty"`
	Secret    string   `json:"client_secret,omitempty"`
}

type wireDisabled struct {
	Reason string `json:"reason"`
	At     string `json:"at"`
}

type wireAPI struct {
	Key string `json:"key"`
}

type wireWellKnown struct {
	Key   string `json:"key"`
	Token string `json:"token"`
}

// Marshal encodes r in the canonical plaintext form: {"v":1,…}, times in
// UTC RFC 3339 with nanoseconds, empty fields omitted.
func Marshal(r *Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b := encode(make([]byte, 0, 512), r)
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(b), MaxRecordSize)
	}
	return b, nil
}

// encode appends the canonical encoding of a valid record.
func encode(b []byte, r *Record) []byte {
	w := wire{
		V: CodecVersion, Provider: r.Provider, Namespace: r.Namespace, Label: r.Label,
		Kind: r.Kind, Meta: r.Meta, Created: fmtTime(r.Created), Updated: fmtTime(r.Updated),
		Generation: r.Generation, Position: r.Position,
	}
	var d wireDisabled
	if r.Disabled != nil {
		d = wireDisabled{Reason: r.Disabled.Reason, At: fmtTime(r.Disabled.At)}
		w.Disabled = &d
	}
	var o wireOAuth
	var a wireAPI
	var k wireWellKnown
	switch {
	case r.OAuth != nil:
		ro := r.OAuth
		o = wireOAuth{
			Access: ro.Access.Reveal(), Refresh: ro.Refresh.Reveal(), Expiry: fmtTime(ro.Expiry),
			AccountID: ro.AccountID, IDToken: ro.IDToken.Reveal(), Scopes: ro.Scopes,
			ClientID: ro.ClientID, TokenURL: ro.TokenURL, Secret: ro.ClientSecret.Reveal(),
		}
		w.OAuth = &o
	case r.API != nil:
		a = wireAPI{Key: r.API.Key.Reveal()}
		w.API = &a
	case r.WellKnown != nil:
		k = wireWellKnown{Key: r.WellKnown.Key, Token: r.WellKnown.Token.Reveal()}
		w.WellKnown = &k
	}
	return appendWire(b, &w)
}

// Unmarshal decodes a record strictly: the size is capped, the version must
// be known, unknown fields, trailing data and non-canonical encodings
// (other key order, spacing, case, duplicate keys, time formats) are
// rejected, and the result must validate. Errors never quote the input.
func Unmarshal(data []byte) (*Record, error) {
	if len(data) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(data), MaxRecordSize)
	}
	var w wire
	w.V = -1
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, strictError(data, err)
	}
	if w.V == -1 {
		return nil, fmt.Errorf("%w: missing version field", ErrInvalidRecord)
	}
	if w.V != CodecVersion {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedVersion, w.V)
	}
	r := &Record{
		Provider: w.Provider, Namespace: w.Namespace, Label: w.Label, Kind: w.Kind,
		Meta: w.Meta, Generation: w.Generation, Position: w.Position,
	}
	var err error
	if w.Disabled != nil {
		r.Disabled = &Disabled{Reason: w.Disabled.Reason}
		if r.Disabled.At, err = parseTime("disabled.at", w.Disabled.At); err != nil {
			return nil, err
		}
	}
	if r.Created, err = parseTime("created", w.Created); err != nil {
		return nil, err
	}
	if r.Updated, err = parseTime("updated", w.Updated); err != nil {
		return nil, err
	}
	if w.OAuth != nil {
		o := w.OAuth
		r.OAuth = &OAuth{
			Access: Secret(o.Access), Refresh: Secret(o.Refresh), AccountID: o.AccountID,
			IDToken: Secret(o.IDToken), Scopes: o.Scopes, ClientID: o.ClientID, TokenURL: o.TokenURL,
			ClientSecret: Secret(o.Secret),
		}
		if r.OAuth.Expiry, err = parseTime("oauth.expiry", o.Expiry); err != nil {
			return nil, err
		}
	}
	if w.API != nil {
		r.API = &APIKey{Key: Secret(w.API.Key)}
	}
	if w.WellKnown != nil {
		r.WellKnown = &WellKnown{Key: w.WellKnown.Key, Token: Secret(w.WellKnown.Token)}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	// One canonical encoding: whatever was accepted must be exactly what
	// Marshal writes, which rules out case-folded or duplicate keys.
	// The check also rejects what json.Unmarshal tolerates: unknown
	// fields, duplicate keys, case-folded keys, explicit nulls.
	var buf [1024]byte
	if !bytes.Equal(encode(buf[:0], r), data) {
		return nil, strictError(data, nil)
	}
	return r, nil
}

// strictError explains why data was refused, decoding it again strictly
// (this is the error path only, so its cost does not matter).
func strictError(data []byte, err error) error {
	var probe struct {
		V *int `json:"v"`
	}
	if json.Unmarshal(data, &probe) == nil && probe.V != nil && *probe.V != CodecVersion {
		return fmt.Errorf("%w: %d", ErrUnsupportedVersion, *probe.V)
	}
	if err == nil {
		var w wire
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if derr := dec.Decode(&w); derr != nil {
			err = derr
		}
	}
	if err == nil {
		return fmt.Errorf("%w: not in canonical form", ErrInvalidRecord)
	}
	return fmt.Errorf("%w: %s", ErrInvalidRecord, jsonErrorKind(err))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Location() != time.UTC || t.IsZero() {
		return time.Time{}, fmt.Errorf("%w: field %s is not a UTC RFC 3339 time", ErrInvalidRecord, field)
	}
	return t, nil
}

// jsonErrorKind describes a decoding error without echoing input bytes
// (a json.UnmarshalTypeError's Value, or a syntax error's context, could
// hold part of a token).
func jsonErrorKind(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of input"
	}
	msg := err.Error()
	// "json: unknown field \"x\"" names a field, not a value: keep it.
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}
