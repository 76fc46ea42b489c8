package google

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
)

// Detail type URLs of google.rpc error details.
const (
	typeRetryInfo    = "type.googleapis.com/google.rpc.RetryInfo"
	typeErrorInfo    = "type.googleapis.com/google.rpc.ErrorInfo"
	typeQuotaFailure = "type.googleapis.com/google.rpc.QuotaFailure"
)

// rpcError is a google.rpc.Status error body.
type rpcError struct {
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type       string            `json:"@type"`
			RetryDelay string            `json:"retryDelay"`
			Reason     string            `json:"reason"`
			Metadata   map[string]string `json:"metadata"`
			Violations []struct {
				QuotaID string `json:"quotaId"`
			} `json:"violations"`
		} `json:"details"`
	} `json:"error"`
}

// parseRPCError reads an error body: an object, or (streaming endpoints)
// an array whose first element is one.
func parseRPCError(body []byte) rpcError {
	var e rpcError
	b := bytes.TrimSpace(body)
	if len(b) > 0 && b[0] == '[' {
		var arr []rpcError
		if json.Unmarshal(b, &arr) == nil {
			for _, x := range arr {
				if x.Error != nil {
					return x
				}
			}
		}
		return e
	}
	_ = json.Unmarshal(b, &e)
	return e
}

// signals are what an error body says about when to come back.
type signals struct {
	reason     string // ErrorInfo.reason
	retryDelay time.Time
	resetDelay time.Time
	resetAt    time.Time
	daily      bool
	model      string
	message    string
	status     string
}

func read(e rpcError, now time.Time) signals {
	var s signals
	if e.Error == nil {
		return s
	}
	s.message, s.status = e.Error.Message, e.Error.Status
	for _, d := range e.Error.Details {
		switch d.Type {
		case typeRetryInfo:
			s.retryDelay, _ = provider.GoDuration(d.RetryDelay, now)
		case typeErrorInfo:
			s.reason = provider.Code(d.Reason)
			s.resetDelay, _ = provider.GoDuration(d.Metadata["quotaResetDelay"], now)
			s.resetAt, _ = provider.RFC3339(d.Metadata["quotaResetTimeStamp"], now)
			if m := modelName(d.Metadata["model"]); m != "" {
				s.model = m
			}
			if strings.Contains(d.Metadata["quota_limit"], "PerDay") {
				s.daily = true
			}
		case typeQuotaFailure:
			for _, v := range d.Violations {
				if strings.Contains(v.QuotaID, "PerDay") || strings.Contains(v.QuotaID, "Daily") {
					s.daily = true
				}
			}
		}
	}
	return s
}

// Classify maps a response to a pool outcome:
//
//   - 2xx (and any status below 400): Success.
//   - 429 or RESOURCE_EXHAUSTED: QuotaExhausted when ErrorInfo.reason is
//     QUOTA_EXHAUSTED or INSUFFICIENT_G1_CREDITS_BALANCE, or a
//     QuotaFailure names a per-day quota, until quotaResetTimeStamp,
//     else quotaResetDelay, else RetryInfo.retryDelay; otherwise
//     (RATE_LIMIT_EXCEEDED…) RateLimited until RetryInfo.retryDelay, else
//     quotaResetDelay, else quotaResetTimeStamp. Both fall back to
//     Retry-After and to the message's "Please retry in 10h17m5.7s".
//     Model is the model named in the ErrorInfo or the request path.
//   - 503 or UNAVAILABLE: Overloaded.
//   - 401 (UNAUTHENTICATED), 400 API_KEY_INVALID, 403: AuthRejected,
//     except 403 VALIDATION_REQUIRED and SERVICE_DISABLED, which need
//     the operator: Fatal.
//   - 408, 5xx: Transient.
//   - any other 4xx is the request's own fault: Success, Status set.
//
// Malformed hints are ignored; hints are capped at provider.MaxRetryAfter.
// At most adapters.MaxErrorBody bytes are read and the body is restored.
func (a *adapter) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return provider.ClassifyError(resp, now, classifyError)
}

// classifyError reads an error answer into o.
func classifyError(o pool.Outcome, resp *http.Response, body []byte, now time.Time) pool.Outcome {
	s := read(parseRPCError(body), now)
	status := resp.StatusCode
	switch {
	case status == 429 || s.status == "RESOURCE_EXHAUSTED":
		retryAfter, _ := provider.RetryAfter(resp.Header, now)
		inMessage, _ := provider.RetryIn(s.message, now)
		o.Reason = cmp.Or(s.reason, "RESOURCE_EXHAUSTED")
		o.Model = s.model
		if o.Model == "" && resp.Request != nil {
			o.Model = modelFromPath(resp.Request.URL.Path)
		}
		if s.reason == "QUOTA_EXHAUSTED" || s.reason == "INSUFFICIENT_G1_CREDITS_BALANCE" || s.daily {
			o.Kind = pool.QuotaExhausted
			o.Until = first(s.resetAt, s.resetDelay, s.retryDelay, retryAfter, inMessage)
		} else {
			o.Kind = pool.RateLimited
			o.Until = first(s.retryDelay, s.resetDelay, s.resetAt, retryAfter, inMessage)
		}
	case status == 503 || s.status == "UNAVAILABLE":
		o.Kind, o.Reason = pool.Overloaded, "UNAVAILABLE"
	case s.reason == "VALIDATION_REQUIRED" || s.reason == "SERVICE_DISABLED":
		o.Kind, o.Reason = pool.Fatal, s.reason
	case status == 401 || status == 403 || s.reason == "API_KEY_INVALID":
		o.Kind, o.Reason = pool.AuthRejected, cmp.Or(s.reason, provider.Code(s.status))
	case status == 408 || status >= 500:
		o.Kind, o.Reason = pool.Transient, provider.Code(s.status)
	default:
		o.Kind, o.Reason = pool.Success, provider.Code(s.status)
	}
	return o
}

// first returns the first non-zero time.
func first(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// modelFromPath finds the model in ".../models/gemini-2.5-pro:generateContent".
func modelFromPath(p string) string {
	i := strings.LastIndex(p, "/models/")
	if i < 0 {
		return ""
	}
	m := p[i+len("/models/"):]
	if j := strings.IndexAny(m, ":/"); j >= 0 {
		m = m[:j]
	}
	return modelName(m)
}

// modelName keeps a model id only if it looks like one.
func modelName(m string) string {
	return provider.Code(strings.TrimPrefix(m, "models/"))
}
