package provider

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
// path, so encoding/json decodes them whole.
func ErrorCode(body []byte) (code, typ string) {
	var top map[string]any
	if json.Unmarshal(body, &top) != nil {
		return "", ""
	}
	if e, ok := top["error"].(map[string]any); ok {
		top = e
	}
	return identifier(top["code"]), identifier(top["type"])
}

// identifier returns v when it is a string that is a short identifier.
func identifier(v any) string {
	s, _ := v.(string)
	return Code(s)
}
