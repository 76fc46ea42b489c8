package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authvault/authvault/records"
)

// MaxFileSize bounds a source file, and the content of OPENCODE_AUTH_CONTENT.
// Real credential files are a few KiB; a file near this size is corrupt or
// hostile.
const MaxFileSize = 1 << 20

// maxDepth bounds JSON nesting. The deepest real source (a JWT's claims
// inside Codex's file) nests three levels; the limit is checked by a scan
// of the bytes before any value is built, so a document of a million '['
// costs nothing.
const maxDepth = 16

// Bounds on single values, checked before a value reaches a record.
const (
	maxSecretLen = 32 << 10 // JWT id tokens are the largest, a few KiB
	maxTextLen   = 1 << 10  // emails, ids, plan names, URLs
)

// object is a decoded JSON object.
type object = map[string]any

// pathError is a problem at one place in a document.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string {
	if e.path == "" {
		return e.err.Error()
	}
	return e.path + ": " + e.err.Error()
}

func (e *pathError) Unwrap() error { return e.err }

// reasonError is a precise message that still matches one of the package's
// sentinel errors with errors.Is.
type reasonError struct {
	kind error
	msg  string
}

func (e *reasonError) Error() string { return e.msg }
func (e *reasonError) Unwrap() error { return e.kind }

func reason(kind error, format string, args ...any) error {
	return &reasonError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// decodeJSON parses data with encoding/json into object, []any, string,
// json.Number, bool and nil, and returns with it the keys of the
// top-level object in the order the file lists them (a map forgets it,
// and entries are imported and reported in the file's order). Other
// programs write these files and add fields over time: members nobody
// asks for are ignored, and of duplicate members the last counts, as in
// the JavaScript that writes most of them. What stays bounded is the cost
// and what reaches a record: the size is capped, nesting is checked by a
// byte scan before anything is built, and invalid UTF-8 (which
// encoding/json would silently replace) is refused. Errors never quote
// the input: a syntax error names only its byte offset.
func decodeJSON(data []byte) (v any, keys []string, err error) {
	if len(data) > MaxFileSize {
		return nil, nil, errTooLarge()
	}
	if !utf8.Valid(data) {
		return nil, nil, ErrInvalidUTF8
	}
	if err := checkDepth(data); err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if first := bytes.TrimLeft(data, " \t\r\n"); len(first) > 0 && first[0] == '{' {
		v, keys, err = decodeObject(dec)
	} else {
		err = dec.Decode(&v)
	}
	if err == io.EOF {
		return nil, nil, reason(ErrSyntax, "empty document")
	}
	if err != nil {
		return nil, nil, syntaxError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, reason(ErrSyntax, "data after the top-level value")
	}
	return v, keys, nil
}

// decodeObject decodes the object dec is at, member by member, noting
// the keys in order and once each.
func decodeObject(dec *json.Decoder) (object, []string, error) {
	if _, err := dec.Token(); err != nil { // {
		return nil, nil, err
	}
	obj := object{}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := tok.(string) // the decoder allows only strings here
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if _, dup := obj[key]; !dup {
			keys = append(keys, key)
		}
		obj[key] = v
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, nil, err
	}
	return obj, keys, nil
}

// checkDepth fails when data's brackets nest deeper than maxDepth,
// outside strings. It builds nothing, so a document of a million '['
// costs one pass over its bytes; whether the brackets match is the
// decoder's to say.
func checkDepth(data []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > maxDepth {
				return reason(ErrTooDeep, "nested deeper than %d levels", maxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

func errTooLarge() error {
	return reason(ErrTooLarge, "larger than %d bytes", MaxFileSize)
}

// syntaxError describes a tokenizer error without its text, which quotes
// the offending input character.
func syntaxError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return reason(ErrSyntax, "invalid JSON at byte offset %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return reason(ErrSyntax, "unexpected end of JSON")
	}
	return ErrSyntax
}

// joinPath appends key to a JSON path: a.b for plain keys, a["x/y"] for
// others. Keys are bounded and quoted, so a hostile key cannot flood or
// forge an error line.
func joinPath(parent, key string) string {
	if isPlainKey(key) {
		if parent == "" {
			return key
		}
		return parent + "." + key
	}
	const maxKey = 80
	if len(key) > maxKey {
		cut := maxKey
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		key = key[:cut] + "…"
	}
	return parent + "[" + strconv.Quote(key) + "]"
}

func isPlainKey(key string) bool {
	if key == "" || len(key) > 64 {
		return false
	}
	for _, c := range []byte(key) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

func jsonType(v any) string {
	switch v.(type) {
	case object:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func wrongType(want string, v any) error {
	return reason(ErrWrongType, "want %s, got %s", want, jsonType(v))
}

// checker reads typed fields out of JSON objects and collects one error
// per bad field, so that a file's problems are all reported at once.
type checker struct {
	errs []*pathError
}

func (c *checker) fail(path string, err error) {
	c.errs = append(c.errs, &pathError{path, err})
}

// lookup returns the value at key; absent (or null, when !required) values
// give ok == false, and a missing required value is recorded.
func (c *checker) lookup(o object, opath, key string, required bool) (v any, path string, ok bool) {
	path = joinPath(opath, key)
	v, present := o[key]
	if !present {
		if required {
			c.fail(path, ErrMissing)
		}
		return nil, path, false
	}
	if v == nil && !required {
		return nil, path, false
	}
	return v, path, true
}

// object reads a nested object.
func (c *checker) object(o object, opath, key string, required bool) (object, string) {
	v, path, ok := c.lookup(o, opath, key, required)
	if !ok {
		return nil, path
	}
	obj, isObj := v.(object)
	if !isObj {
		c.fail(path, wrongType("object", v))
		return nil, path
	}
	return obj, path
}

// require records a problem unless key is present and not null, for
// fields that must be there but may be empty.
func (c *checker) require(o object, opath, key string) {
	v, path, ok := c.lookup(o, opath, key, true)
	if ok && v == nil {
		c.fail(path, wrongType("string", v))
	}
}

// str reads a non-secret string: bounded, without control characters. An
// empty optional string counts as absent.
func (c *checker) str(o object, opath, key string, required bool) string {
	return c.checked(o, opath, key, required, func(s string) error { return checkText(s, required) })
}

// secret reads a token or key: non-empty, printable ASCII (RFC 6749's
// VSCHAR: a token with a line break could split an HTTP header), bounded.
// An empty optional one counts as absent.
func (c *checker) secret(o object, opath, key string, required bool) records.Secret {
	return records.Secret(c.checked(o, opath, key, required, func(s string) error {
		if s == "" && !required {
			return nil
		}
		return checkSecret(s)
	}))
}

// checked reads a string that check accepts, recording why not.
func (c *checker) checked(o object, opath, key string, required bool, check func(string) error) string {
	v, path, ok := c.lookup(o, opath, key, required)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		c.fail(path, wrongType("string", v))
		return ""
	}
	if err := check(s); err != nil {
		c.fail(path, err)
		return ""
	}
	return s
}

// millis reads a Unix time in milliseconds; 0 means unknown.
func (c *checker) millis(o object, opath, key string, required bool) time.Time {
	v, path, ok := c.lookup(o, opath, key, required)
	if !ok {
		return time.Time{}
	}
	t, err := millisTime(v)
	if err != nil {
		c.fail(path, err)
	}
	return t
}

// strList reads an array of non-secret strings.
func (c *checker) strList(o object, opath, key string) []string {
	v, path, ok := c.lookup(o, opath, key, false)
	if !ok {
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		c.fail(path, wrongType("array of strings", v))
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		epath := path + "[" + strconv.Itoa(i) + "]"
		s, isStr := e.(string)
		if !isStr {
			c.fail(epath, wrongType("string", e))
			continue
		}
		if err := checkText(s, true); err != nil {
			c.fail(epath, err)
			continue
		}
		out = append(out, s)
	}
	return out
}

// strMap reads an object whose values are non-secret strings.
func (c *checker) strMap(o object, opath, key string) map[string]string {
	obj, path := c.object(o, opath, key, false)
	if obj == nil {
		return nil
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		kpath := joinPath(path, k)
		s, isStr := v.(string)
		if !isStr {
			c.fail(kpath, wrongType("string", v))
			continue
		}
		if err := checkText(k, true); err != nil {
			c.fail(kpath, err)
			continue
		}
		if err := checkText(s, false); err != nil {
			c.fail(kpath, err)
			continue
		}
		out[k] = s
	}
	return out
}

func millisTime(v any) (time.Time, error) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, wrongType("number", v)
	}
	// JavaScript writes Date.now() arithmetic as a plain integer; anything
	// else (fractions, exponents) did not come from the tools we read.
	ms, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return time.Time{}, reason(ErrInvalidValue, "want integer milliseconds")
	}
	const maxMillis = 253402300799999 // 9999-12-31T23:59:59.999Z
	if ms < 0 || ms > maxMillis {
		return time.Time{}, reason(ErrInvalidValue, "milliseconds out of range")
	}
	if ms == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms).UTC(), nil
}

func checkSecret(s string) error {
	if s == "" {
		return reason(ErrInvalidValue, "empty")
	}
	if len(s) > maxSecretLen {
		return reason(ErrInvalidValue, "longer than %d bytes", maxSecretLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return reason(ErrInvalidValue, "not a printable ASCII token")
		}
	}
	return nil
}

func checkText(s string, required bool) error {
	if s == "" {
		if required {
			return reason(ErrInvalidValue, "empty")
		}
		return nil
	}
	if len(s) > maxTextLen {
		return reason(ErrInvalidValue, "longer than %d bytes", maxTextLen)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return reason(ErrInvalidValue, "holds a control character")
	}
	return nil
}
