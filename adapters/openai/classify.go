package openai

import (
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
)

// InsufficientQuotaCooldown is the hint given for insufficient_quota: the
// account is out of credit or over its billing limit, which no header
// dates; it comes back only when someone pays, so it is not retried for
// a day (the pool may still probe earlier by its own rules).
const InsufficientQuotaCooldown = 24 * time.Hour

// apiError is the error body of the OpenAI API
// ({"error":{"message","type","param","code"}}) and of the ChatGPT
// backend (usage_limit_reached adds resets_at and resets_in_seconds).
type apiError struct {
	Error struct {
		Message         string          `json:"message"`
		Type            string          `json:"type"`
		Code            json.RawMessage `json:"code"`
		ResetsAt        json.RawMessage `json:"resets_at"`
		ResetsInSeconds json.RawMessage `json:"resets_in_seconds"`
	} `json:"error"`
}

// code returns error.code when it is a string, else "".
func (e *apiError) code() string {
	var s string
	if json.Unmarshal(e.Error.Code, &s) != nil {
		return ""
	}
	return s
}

// is reports whether error.code or error.type is name.
func (e *apiError) is(name string) bool { return e.code() == name || e.Error.Type == name }

var limits = []provider.Limit{
	{Remaining: "x-ratelimit-remaining-requests", Reset: "x-ratelimit-reset-requests"},
	{Remaining: "x-ratelimit-remaining-tokens", Reset: "x-ratelimit-reset-tokens"},
}

// Classify maps a response to a pool outcome:
//
//   - 2xx (and any status below 400): Success.
//   - insufficient_quota (error.code or error.type): QuotaExhausted for
//     InsufficientQuotaCooldown.
//   - usage_limit_reached (ChatGPT plan limits): QuotaExhausted until
//     resets_at (unix seconds), else now + resets_in_seconds, else
//     Retry-After.
//   - other 429 (rate_limit_exceeded…): RateLimited until retry-after-ms /
//     Retry-After, else the x-ratelimit-reset-{requests,tokens} duration
//     ("1s", "6m0s", "12ms") of the exhausted limit, else the message's
//     "try again in 1.8s".
//   - unsupported_country_region_territory, usage_not_included: Fatal.
//   - 401, 403: AuthRejected.
//   - 5xx saying "overloaded" (or code server_is_overloaded): Overloaded;
//     other 5xx and 408: Transient.
//   - any other 4xx is the request's own fault: Success, Status set.
//
// Malformed hints are ignored; hints are capped at provider.MaxRetryAfter.
// At most adapters.MaxErrorBody bytes are read and the body is restored.
func (a *adapter) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return provider.ClassifyError(resp, now, classifyError)
}

// classifyError reads an error answer into o.
func classifyError(o pool.Outcome, resp *http.Response, body []byte, now time.Time) pool.Outcome {
	var e apiError
	_ = json.Unmarshal(body, &e)
	reason := provider.Code(e.code())
	if reason == "" {
		reason = provider.Code(e.Error.Type)
	}
	h := resp.Header
	status := resp.StatusCode

	switch {
	case e.is("insufficient_quota"):
		o.Kind, o.Reason = pool.QuotaExhausted, "insufficient_quota"
		o.Until = provider.Cap(now, now.Add(InsufficientQuotaCooldown))
	case e.is("usage_limit_reached"):
		o.Kind, o.Reason = pool.QuotaExhausted, "usage_limit_reached"
		if t, ok := number(e.Error.ResetsAt, now, provider.Unix); ok {
			o.Until = t
		} else if t, ok := number(e.Error.ResetsInSeconds, now, provider.Seconds); ok {
			o.Until = t
		} else {
			o.Until, _ = provider.RetryAfter(h, now)
		}
	case status == 429:
		o.Kind, o.Reason = pool.RateLimited, cmp.Or(reason, "rate_limit_exceeded")
		if t, ok := provider.RetryAfter(h, now); ok {
			o.Until = t
		} else if t := provider.Resets(h, limits, provider.GoDuration, now); !t.IsZero() {
			o.Until = t
		} else {
			o.Until, _ = provider.RetryIn(e.Error.Message, now)
		}
	case e.is("unsupported_country_region_territory") || e.is("usage_not_included"):
		o.Kind, o.Reason = pool.Fatal, reason
	case status == 401 || status == 403:
		o.Kind, o.Reason = pool.AuthRejected, reason
	case status >= 500 && (e.is("server_is_overloaded") || strings.Contains(strings.ToLower(e.Error.Message), "overloaded")):
		o.Kind, o.Reason = pool.Overloaded, cmp.Or(reason, "overloaded")
	case status == 408 || status >= 500:
		o.Kind, o.Reason = pool.Transient, reason
	default:
		o.Kind, o.Reason = pool.Success, reason
	}
	return o
}

// number reads a JSON number, or a numeric string, and converts it with
// conv; null, absent and non-numeric values are not hints.
func number(raw json.RawMessage, now time.Time, conv func(float64, time.Time) (time.Time, bool)) (time.Time, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, false
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return time.Time{}, false
		}
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return time.Time{}, false
		}
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return time.Time{}, false
	}
	return conv(f, now)
}
