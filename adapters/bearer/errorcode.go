package bearer

import "encoding/json"

// ErrorCode extracts the error code and type from an OpenAI-style error
// body: {"error":{"code":…,"type":…}}, or a top-level "code" (DashScope).
// Values that are not short identifiers ([A-Za-z0-9_.:-], at most 64
// bytes) are dropped, so the result is safe to log. Malformed or truncated
// JSON yields empty strings. Member names match exactly, and the last of
// duplicate members counts.
//
// Callers pass a bounded body (adapters.PeekBody with
// adapters.MaxErrorBody): error bodies are small and off the success
// path, so encoding/json reads them whole.
func ErrorCode(body []byte) (code, typ string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "", ""
	}
	if e := top["error"]; len(e) > 0 && e[0] == '{' {
		var inner map[string]json.RawMessage
		if json.Unmarshal(e, &inner) != nil {
			return "", ""
		}
		top = inner
	}
	return identifier(top["code"]), identifier(top["type"])
}

// identifier returns raw's string value when it is a short identifier.
func identifier(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil || !IsIdentifier(s) {
		return ""
	}
	return s
}
