package bearer

import (
	"encoding/json"
	"strings"
)

// ErrorCode extracts the error code and type from an OpenAI-style error
// body: {"error":{"code":…,"type":…}}, or a top-level "code" (DashScope).
// Values that are not short identifiers ([A-Za-z0-9_.:-], at most 64
// bytes) are dropped, so the result is safe to log. Malformed or truncated
// JSON yields empty strings. Member names match exactly, and the last of
// duplicate members counts, as when the body is decoded into a map.
//
// Every 429 is classified by its body, so the body is read in one pass
// that validates it and picks out the four members, without decoding the
// rest.
func ErrorCode(body []byte) (code, typ string) {
	s := errScanner{b: body}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '{' {
		if !s.object(0, topObject) {
			return "", ""
		}
	} else if !s.value(0) {
		return "", ""
	}
	s.ws()
	if s.i != len(s.b) || len(body) == 0 {
		return "", ""
	}
	f := &s.f
	if f.errIsObject {
		return identifier(f.errCode), identifier(f.errType)
	}
	return identifier(f.code), identifier(f.typ)
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// errFields collects the raw JSON values of the members ErrorCode wants.
type errFields struct {
	code, typ          []byte
	errIsObject        bool
	errCode, errType   []byte
	inErrCode, inErrTy []byte // of the "error" object being read
}

// The objects ErrorCode looks into.
const (
	otherObject = iota
	topObject
	errorObject
)

// top reads the value of a member of the top-level object.
func (s *errScanner) top(key []byte, depth int) bool {
	f := &s.f
	start := s.i
	switch string(key) {
	case "error":
		if s.i < len(s.b) && s.b[s.i] == '{' {
			f.inErrCode, f.inErrTy = nil, nil
			if !s.object(depth, errorObject) {
				return false
			}
			f.errIsObject, f.errCode, f.errType = true, f.inErrCode, f.inErrTy
			return true
		}
		if !s.value(depth) {
			return false
		}
		f.errIsObject, f.errCode, f.errType = false, nil, nil
		return true
	case "code":
		if !s.value(depth) {
			return false
		}
		f.code = s.b[start:s.i]
	case "type":
		if !s.value(depth) {
			return false
		}
		f.typ = s.b[start:s.i]
	default:
		return s.value(depth)
	}
	return true
}

// inError reads the value of a member of the "error" object.
func (s *errScanner) inError(key []byte, depth int) bool {
	f := &s.f
	start := s.i
	if !s.value(depth) {
		return false
	}
	switch string(key) {
	case "code":
		f.inErrCode = s.b[start:s.i]
	case "type":
		f.inErrTy = s.b[start:s.i]
	}
	return true
}

// errScanner validates JSON as encoding/json does (RFC 8259 grammar,
// invalid UTF-8 allowed inside strings, nesting at most maxJSONDepth).
type errScanner struct {
	b []byte
	i int
	f errFields
}

func (s *errScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads one value at s.i, which is past any whitespace before it.
func (s *errScanner) value(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth, otherObject)
	case c == '[':
		return s.array(depth)
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

// object reads an object at s.i: one of the objects ErrorCode looks
// into, or any other.
func (s *errScanner) object(depth int, kind int) bool {
	depth, empty, ok := s.open(depth, '}')
	if !ok || empty {
		return ok
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		key, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		switch kind {
		case topObject:
			ok = s.top(key, depth)
		case errorObject:
			ok = s.inError(key, depth)
		default:
			ok = s.value(depth)
		}
		if !ok {
			return false
		}
		if more, ok := s.next('}'); !more {
			return ok
		}
	}
}

func (s *errScanner) array(depth int) bool {
	depth, empty, ok := s.open(depth, ']')
	if !ok || empty {
		return ok
	}
	for {
		s.ws()
		if !s.value(depth) {
			return false
		}
		if more, ok := s.next(']'); !more {
			return ok
		}
	}
}

// open enters the object or array at s.i, one level deeper, and reads
// its closing byte at once when it is empty.
func (s *errScanner) open(depth int, closing byte) (inner int, empty, ok bool) {
	if depth++; depth > maxJSONDepth {
		return depth, false, false
	}
	s.i++ // { or [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == closing {
		s.i++
		return depth, true, true
	}
	return depth, false, true
}

// next reads what follows a member or an element: a comma (more follows)
// or the closing byte (ok, no more).
func (s *errScanner) next(closing byte) (more, ok bool) {
	s.ws()
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case ',':
			s.i++
			return true, true
		case closing:
			s.i++
			return false, true
		}
	}
	return false, false
}

// str reads a string at s.i and returns its value: the bytes between the
// quotes when there is no escape, else the decoded value.
func (s *errScanner) str() ([]byte, bool) {
	start := s.i
	s.i++ // "
	escaped := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c >= 0x20 && c != '"' && c != '\\' {
			s.i++
			continue
		}
		switch {
		case c == '"':
			s.i++
			if !escaped {
				return s.b[start+1 : s.i-1], true
			}
			var v string
			if json.Unmarshal(s.b[start:s.i], &v) != nil {
				return nil, false
			}
			return []byte(v), true
		case c < 0x20:
			return nil, false
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.b) {
				return nil, false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+5 > len(s.b) {
					return nil, false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !strings.ContainsRune("0123456789abcdefABCDEF", rune(h)) {
						return nil, false
					}
				}
				s.i += 5
			default:
				return nil, false
			}
		default:
			s.i++
		}
	}
	return nil, false
}

func (s *errScanner) lit(word string) bool {
	if !strings.HasPrefix(string(s.b[s.i:min(len(s.b), s.i+len(word))]), word) {
		return false
	}
	s.i += len(word)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *errScanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (s *errScanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
