package provider

import (
	"net/http"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
)

// defaultQuotaCodes are the error codes and types that mean a long-term
// quota or billing limit is spent, not a short rate limit: OpenAI's
// insufficient_quota and billing_hard_limit_reached, ChatGPT's
// usage_limit_reached, and the generic quota_exceeded.
var defaultQuotaCodes = []string{"insufficient_quota", "billing_hard_limit_reached", "usage_limit_reached", "quota_exceeded"}

// Classifier turns OpenAI-compatible responses into pool outcomes. The zero
// value knows defaultQuotaCodes.
//
//   - 1xx–3xx: Success.
//   - Any 4xx whose error code or type is a quota code: QuotaExhausted.
//   - 402: QuotaExhausted (payment required).
//   - 429: RateLimited.
//   - 401, 403: AuthRejected (the transport refreshes once).
//   - 503, 529: Overloaded (the provider is full for everyone).
//   - Other 5xx: Transient.
//   - Other 4xx: Success. The account served the request; the error is the
//     request's own (bad model name, invalid body) and another account
//     would answer the same.
//
// Until comes from Retry-After (seconds or HTTP-date, capped by
// ParseRetryAfter), or for a 429 without one from the
// x-ratelimit-reset-requests / -tokens durations. Reason is the body's error
// code or type when it is a short identifier, else a fixed word; never
// body text. The body is read at most adapters.MaxErrorBody bytes and put
// back for the caller unchanged.
type Classifier struct {
	// Quota adds provider error codes or types (compared without regard to
	// case) that mean a spent quota, for example DashScope's
	// "Throttling.AllocationQuota".
	Quota []string
}

// Classify classifies resp relative to now. A nil resp is Transient.
func (c Classifier) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return adapters.ScrubOutcome(resp, c.classify(resp, now))
}

// classify is Classify before ScrubOutcome.
func (c Classifier) classify(resp *http.Response, now time.Time) pool.Outcome {
	if resp == nil {
		return pool.Outcome{Kind: pool.Transient, Reason: "no_response"}
	}
	st := resp.StatusCode
	out := pool.Outcome{Status: st}
	if st < 400 {
		out.Kind = pool.Success
		return out
	}
	code, typ := ErrorCode(adapters.PeekBody(resp, adapters.MaxErrorBody))
	retryAfter, hasRetry := ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	reason := func(def string) string {
		if code != "" {
			return code
		}
		if typ != "" {
			return typ
		}
		return def
	}
	switch {
	case st < 500 && (c.isQuota(code) || c.isQuota(typ)):
		out.Kind = pool.QuotaExhausted
		out.Reason = reason("quota_exhausted")
		if c.isQuota(typ) && !c.isQuota(code) {
			out.Reason = typ
		}
	case st == http.StatusPaymentRequired:
		out.Kind = pool.QuotaExhausted
		out.Reason = reason("payment_required")
	case st == http.StatusTooManyRequests:
		out.Kind = pool.RateLimited
		out.Reason = reason("rate_limited")
		if !hasRetry {
			retryAfter, hasRetry = rateLimitReset(resp.Header, now)
		}
	case st == http.StatusUnauthorized:
		out.Kind = pool.AuthRejected
		out.Reason = reason("unauthorized")
		hasRetry = false
	case st == http.StatusForbidden:
		out.Kind = pool.AuthRejected
		out.Reason = reason("forbidden")
		hasRetry = false
	case st == http.StatusServiceUnavailable || st == 529:
		out.Kind = pool.Overloaded
		out.Reason = reason("overloaded")
	case st >= 500:
		out.Kind = pool.Transient
		out.Reason = reason("server_error")
		hasRetry = false
	default:
		out.Kind = pool.Success
		hasRetry = false
	}
	if hasRetry {
		out.Until = retryAfter
	}
	return out
}

func (c Classifier) isQuota(code string) bool {
	if code == "" {
		return false
	}
	for _, q := range defaultQuotaCodes {
		if strings.EqualFold(q, code) {
			return true
		}
	}
	for _, q := range c.Quota {
		if strings.EqualFold(q, code) {
			return true
		}
	}
	return false
}

// rateLimitReset reads OpenAI's x-ratelimit-reset-requests and
// x-ratelimit-reset-tokens durations ("1s", "6m0s", "12ms"). It returns the
// latest reset among the limits whose x-ratelimit-remaining-* is "0", or
// among all of them when none says so; false when no header parses.
// Resets beyond MaxRetryAfter are capped.
func rateLimitReset(h http.Header, now time.Time) (time.Time, bool) {
	var exhausted, any time.Duration
	var okExhausted, okAny bool
	for _, kind := range []string{"requests", "tokens"} {
		v := strings.TrimSpace(h.Get("X-Ratelimit-Reset-" + kind))
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			continue
		}
		d = min(d, MaxRetryAfter)
		if !okAny || d > any {
			any, okAny = d, true
		}
		if strings.TrimSpace(h.Get("X-Ratelimit-Remaining-"+kind)) == "0" && (!okExhausted || d > exhausted) {
			exhausted, okExhausted = d, true
		}
	}
	switch {
	case okExhausted:
		return now.Add(exhausted), true
	case okAny:
		return now.Add(any), true
	}
	return time.Time{}, false
}
