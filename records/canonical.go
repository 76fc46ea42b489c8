package records

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendWire writes w in the canonical form: the field order of the wire
// struct, no insignificant space, empty optional fields omitted, map keys
// sorted, strings escaped as encoding/json escapes them with HTML escaping
// off. It is hand-written because every decode re-encodes to check
// canonicality, and that must cost little next to the decode itself.
func appendWire(b []byte, w *wire) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(w.V), 10)
	b = appendField(b, "provider", w.Provider, false)
	b = appendField(b, "namespace", w.Namespace, false)
	b = appendField(b, "label", w.Label, false)
	b = appendField(b, "kind", string(w.Kind), false)
	if o := w.OAuth; o != nil {
		b = append(b, `,"oauth":{`...)
		n := len(b)
		b = appendField(b, "access", o.Access, true)
		b = appendField(b, "refresh", o.Refresh, true)
		b = appendField(b, "expiry", o.Expiry, true)
		b = appendField(b, "account_id", o.AccountID, true)
		b = appendField(b, "id_token", o.IDToken, true)
		if len(o.Scopes) > 0 {
			b = append(b, `,"scopes":[`...)
			for i, s := range o.Scopes {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, s)
			}
			b = append(b, ']')
		}
		b = appendField(b, "client_id", o.ClientID, true)
		b = appendField(b, "token_url", o.TokenURL, true)
		b = appendField(b, "client_secret", o.Secret, true)
		if len(b) > n {
			b = slices.Delete(b, n, n+1) // the first field's leading comma
		}
		b = append(b, '}')
	}
	if w.API != nil {
		b = append(b, `,"api":{"key":`...)
		b = appendString(b, w.API.Key)
		b = append(b, '}')
	}
	if w.WellKnown != nil {
		b = append(b, `,"wellknown":{"key":`...)
		b = appendString(b, w.WellKnown.Key)
		b = append(b, `,"token":`...)
		b = appendString(b, w.WellKnown.Token)
		b = append(b, '}')
	}
	if len(w.Meta) > 0 {
		keys := make([]string, 0, len(w.Meta))
		for k := range w.Meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, `,"meta":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, w.Meta[k])
		}
		b = append(b, '}')
	}
	if w.Position != 0 {
		b = append(b, `,"position":`...)
		b = strconv.AppendInt(b, int64(w.Position), 10)
	}
	if d := w.Disabled; d != nil {
		b = append(b, `,"disabled":{"reason":`...)
		b = appendString(b, d.Reason)
		b = append(b, `,"at":`...)
		b = appendString(b, d.At)
		b = append(b, '}')
	}
	b = appendField(b, "created", w.Created, true)
	b = appendField(b, "updated", w.Updated, true)
	b = append(b, `,"generation":`...)
	b = strconv.AppendUint(b, w.Generation, 10)
	return append(b, '}')
}

func appendField(b []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return appendString(b, value)
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does without HTML escaping: ",
// \ and control characters escaped (\n, \r, \t by name, others as \u00XX),
// U+2028 and U+2029 as \u2028 and \u2029. s must be valid UTF-8 (records
// validate that before encoding).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
