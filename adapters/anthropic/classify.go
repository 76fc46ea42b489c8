package anthropic

import (
	"cmp"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
)

// apiError is the error body of the Messages API:
// {"type":"error","error":{"type":…,"message":…,"details":{"error_code":…}}}.
type apiError struct {
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Details struct {
			ErrorCode string `json:"error_code"`
		} `json:"details"`
	} `json:"error"`
}

// The per-limit headers of the API (values RFC 3339).
var limits = []provider.Limit{
	{Remaining: "anthropic-ratelimit-requests-remaining", Reset: "anthropic-ratelimit-requests-reset"},
	{Remaining: "anthropic-ratelimit-tokens-remaining", Reset: "anthropic-ratelimit-tokens-reset"},
	{Remaining: "anthropic-ratelimit-input-tokens-remaining", Reset: "anthropic-ratelimit-input-tokens-reset"},
	{Remaining: "anthropic-ratelimit-output-tokens-remaining", Reset: "anthropic-ratelimit-output-tokens-reset"},
}

const unifiedPrefix = "Anthropic-Ratelimit-Unified-" // canonical form

// Classify maps a response to a pool outcome:
//
//   - 2xx (and any status below 400): Success.
//   - 529, or an error of type overloaded_error: Overloaded.
//   - error.details.error_code enforced_spend_limit_reached (the monthly
//     spend cap): QuotaExhausted until the date the message names, else
//     the first of next month, 00:00 UTC, when the cap resets.
//   - 429 with a subscription window (anthropic-ratelimit-unified-status
//     or -unified-<window>-status) "rejected": QuotaExhausted until the
//     latest reset among the rejected windows (unix seconds or RFC 3339).
//   - other 429: RateLimited until retry-after-ms / retry-after, else the
//     anthropic-ratelimit-*-reset of the exhausted limit.
//   - 400 or 403 whose message says the credential is only authorized for
//     use with another client: Fatal, with that as the reason.
//   - 400 "specified API usage limits" (a workspace cap): QuotaExhausted.
//   - 402 billing_error: QuotaExhausted.
//   - 401, other 403: AuthRejected.
//   - 408 and 5xx: Transient.
//   - any other 4xx is the request's own fault, not the account's:
//     Success, with Status set, so the caller gets the answer.
//
// A malformed hint is ignored (zero Until: the pool backs off); hints are
// capped at provider.MaxRetryAfter. At most adapters.MaxErrorBody bytes of an
// error body are read, and the body is restored for the caller.
func (a *adapter) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return provider.ClassifyError(resp, now, classifyError)
}

// classifyError reads an error answer into o.
func classifyError(o pool.Outcome, resp *http.Response, body []byte, now time.Time) pool.Outcome {
	var e apiError
	_ = json.Unmarshal(body, &e)
	etype := provider.Code(e.Error.Type)
	msg := strings.ToLower(e.Error.Message)
	h := resp.Header
	status := resp.StatusCode

	switch {
	case status == 529 || e.Error.Type == "overloaded_error":
		o.Kind, o.Reason = pool.Overloaded, "overloaded_error"
	case e.Error.Details.ErrorCode == "enforced_spend_limit_reached":
		o.Kind, o.Reason = pool.QuotaExhausted, "enforced_spend_limit_reached"
		if t, ok := regainDate(e.Error.Message, now); ok {
			o.Until = t
		} else {
			o.Until = provider.Cap(now, firstOfNextMonth(now))
		}
	case status == 429:
		if until, reason, ok := unifiedRejected(h, now); ok {
			o.Kind, o.Reason, o.Until = pool.QuotaExhausted, reason, until
			if o.Until.IsZero() {
				o.Until, _ = provider.RetryAfter(h, now)
			}
			break
		}
		o.Kind, o.Reason = pool.RateLimited, cmp.Or(etype, "rate_limit_error")
		if t, ok := provider.RetryAfter(h, now); ok {
			o.Until = t
		} else {
			o.Until = provider.Resets(h, limits, provider.RFC3339, now)
		}
	case (status == 400 || status == 403) && strings.Contains(msg, "only authorized for use with"):
		o.Kind, o.Reason = pool.Fatal, restrictedReason(e.Error.Message)
	case status == 400 && strings.Contains(msg, "api usage limits"):
		o.Kind, o.Reason = pool.QuotaExhausted, "api_usage_limits"
		o.Until, _ = regainDate(e.Error.Message, now)
	case status == 402 || e.Error.Type == "billing_error":
		o.Kind, o.Reason = pool.QuotaExhausted, cmp.Or(etype, "billing_error")
	case status == 401:
		o.Kind, o.Reason = pool.AuthRejected, cmp.Or(etype, "authentication_error")
	case status == 403:
		o.Kind, o.Reason = pool.AuthRejected, cmp.Or(etype, "permission_error")
	case status == 408 || status >= 500:
		o.Kind, o.Reason = pool.Transient, etype
	default:
		o.Kind, o.Reason = pool.Success, etype
	}
	return o
}

// unifiedRejected reads the subscription windows. It reports whether the
// overall status or any window other than "overage" (which only governs
// paid extra usage) is "rejected", and the latest reset among them.
func unifiedRejected(h http.Header, now time.Time) (time.Time, string, bool) {
	var until time.Time // the latest reset among the rejected windows
	var names []string
	rejected := false
	if strings.EqualFold(strings.TrimSpace(h.Get("anthropic-ratelimit-unified-status")), "rejected") {
		rejected = true
		if t, ok := provider.Timestamp(h.Get("anthropic-ratelimit-unified-reset"), now); ok {
			until = later(until, t)
		}
	}
	for key := range h {
		ck := http.CanonicalHeaderKey(key)
		rest, ok := strings.CutPrefix(ck, unifiedPrefix)
		if !ok {
			continue
		}
		window, ok := strings.CutSuffix(rest, "-Status")
		if !ok {
			continue // the overall "…-Unified-Status" has no "-" before Status here
		}
		window = strings.ToLower(window)
		if window == "" || window == "overage" || !strings.EqualFold(strings.TrimSpace(h.Get(key)), "rejected") {
			continue
		}
		rejected = true
		if provider.Code(window) != "" {
			names = append(names, window)
		}
		if t, ok := provider.Timestamp(h.Get(unifiedPrefix+window+"-reset"), now); ok {
			until = later(until, t)
		}
	}
	if !rejected {
		return time.Time{}, "", false
	}
	reason := "subscription_limit"
	if len(names) == 1 {
		reason = "subscription_" + names[0] + "_limit"
	}
	return until, reason, true
}

var regainRE = regexp.MustCompile(`regain access on (\d{4}-\d{2}-\d{2}) at (\d{2}:\d{2}) UTC`)

// regainDate reads "You will regain access on 2026-09-01 at 00:00 UTC".
func regainDate(msg string, now time.Time) (time.Time, bool) {
	m := regainRE.FindStringSubmatch(msg)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02 15:04", m[1]+" "+m[2])
	if err != nil {
		return time.Time{}, false
	}
	return provider.Cap(now, t), true
}

func firstOfNextMonth(now time.Time) time.Time {
	u := now.UTC()
	return time.Date(u.Year(), u.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

const restrictedMarker = "only authorized for use with "

// restrictedReason turns "This credential is only authorized for use with
// Claude Code and cannot be used…" into "credential only authorized for
// use with Claude Code", keeping the product name only if it is plain
// words.
func restrictedReason(msg string) string {
	const generic = "credential only authorized for use with another client"
	i := strings.Index(strings.ToLower(msg), restrictedMarker)
	if i < 0 {
		return generic
	}
	rest := msg[i+len(restrictedMarker):]
	end := len(rest)
	for _, stop := range []string{" and ", ".", ",", ";", "\n"} {
		if j := strings.Index(rest, stop); j >= 0 && j < end {
			end = j
		}
	}
	name := strings.TrimSpace(rest[:end])
	if name == "" || len(name) > 40 {
		return generic
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '-') {
			return generic
		}
	}
	return "credential only authorized for use with " + name
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
