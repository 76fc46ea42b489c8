package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// writeError answers with the gateway's own error, in the shape the
// provider's clients parse: Anthropic's {"type":"error","error":{…}},
// Google's {"error":{"code","message","status"}}, OpenAI's
// {"error":{"message","type","code"}} for everyone else.
func writeError(w http.ResponseWriter, provider string, status int, code, msg string) {
	var body any
	switch provider {
	case "anthropic":
		body = map[string]any{"type": "error", "error": map[string]any{"type": anthropicType(status), "message": msg}}
	case "google":
		body = map[string]any{"error": map[string]any{"code": status, "message": msg, "status": googleStatus(status)}}
	default:
		body = map[string]any{"error": map[string]any{"message": msg, "type": openaiType(status), "param": nil, "code": code}}
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

func anthropicType(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusBadRequest, http.StatusMisdirectedRequest:
		return "invalid_request_error"
	default:
		return "api_error"
	}
}

func googleStatus(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusMisdirectedRequest:
		return "INVALID_ARGUMENT"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	default:
		return "INTERNAL"
	}
}

func openaiType(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusBadRequest,
		http.StatusRequestEntityTooLarge, http.StatusMisdirectedRequest:
		return "invalid_request_error"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	default:
		return "server_error"
	}
}
