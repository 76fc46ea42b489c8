package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/authvault/authvault/pool"
)

// syntheticTooMany is the 429 returned when no account could even be
// tried: every one is cooling down, disabled or needs a login.
func syntheticTooMany(req *http.Request, key pool.Key, ex *pool.ExhaustedError, retry string) *http.Response {
	msg := fmt.Sprintf("authvault: no account of %s can serve this request now", key)
	if retry != "" {
		msg += "; the soonest is ready in " + retry + "s"
	} else {
		msg += "; none will be ready without an operator (re-login or enable an account)"
	}
	payload := map[string]any{
		"type": "error",
		"error": map[string]any{
			"type":      "rate_limit_error",
			"code":      "authvault_accounts_exhausted",
			"message":   msg,
			"provider":  key.Provider,
			"namespace": key.Namespace,
		},
	}
	if retry != "" {
		n, _ := strconv.Atoi(retry)
		payload["error"].(map[string]any)["retry_after_seconds"] = n
	}
	body, _ := json.Marshal(payload)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if retry != "" {
		h.Set("Retry-After", retry)
	}
	return &http.Response{
		Status:        "429 Too Many Requests",
		StatusCode:    http.StatusTooManyRequests,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
