package usage

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// RateLimit is the last set of rate-limit headers seen for an account,
// with lower-case names.
type RateLimit struct {
	Seen    time.Time         `json:"seen"`
	Headers map[string]string `json:"headers"`
}

// The headers kept: Anthropic's anthropic-ratelimit-* (unified ones
// included), OpenAI's x-ratelimit-*, Codex's x-codex-* usage headers.
var rateLimitPrefixes = []string{"anthropic-ratelimit-", "x-ratelimit-", "x-codex-"}

// Bounds on what one response may put in the blob.
const (
	maxRateLimitHeaders = 48
	maxRateLimitValue   = 128
)

// rateLimitHeaders returns the rate-limit headers of h, lower-case, or
// nil when it has none. Values are bounded; no other header is kept.
func rateLimitHeaders(h http.Header) map[string]string {
	var out map[string]string
	for k, vs := range h {
		if len(vs) == 0 || len(out) >= maxRateLimitHeaders {
			continue
		}
		lk := strings.ToLower(k)
		if !hasRateLimitPrefix(lk) {
			continue
		}
		v := vs[0]
		if len(v) > maxRateLimitValue {
			v = v[:maxRateLimitValue]
		}
		if out == nil {
			out = map[string]string{}
		}
		out[lk] = v
	}
	return out
}

func hasRateLimitPrefix(k string) bool {
	for _, p := range rateLimitPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// Remaining summarizes the headers for people, one item per limit, as
// "requests 59/60, tokens 39000/40000": Anthropic's and OpenAI's
// remaining/limit pairs, Anthropic's unified (subscription) status and
// utilization, and Codex's used percentages. Empty when nothing is
// known.
func (r *RateLimit) Remaining() string {
	if r == nil {
		return ""
	}
	h := r.Headers
	var items []string
	for k, rem := range h {
		var name, limit string
		switch {
		case strings.HasPrefix(k, "anthropic-ratelimit-") && strings.HasSuffix(k, "-remaining"):
			name = strings.TrimSuffix(strings.TrimPrefix(k, "anthropic-ratelimit-"), "-remaining")
			limit = h["anthropic-ratelimit-"+name+"-limit"]
		case strings.HasPrefix(k, "x-ratelimit-remaining-"):
			name = strings.TrimPrefix(k, "x-ratelimit-remaining-")
			limit = h["x-ratelimit-limit-"+name]
		case strings.HasPrefix(k, "anthropic-ratelimit-unified-") && (strings.HasSuffix(k, "-status") || strings.HasSuffix(k, "-utilization")):
			items = append(items, strings.TrimPrefix(k, "anthropic-ratelimit-")+" "+rem)
			continue
		case strings.HasPrefix(k, "x-codex-") && strings.HasSuffix(k, "-used-percent"):
			items = append(items, strings.TrimSuffix(strings.TrimPrefix(k, "x-codex-"), "-used-percent")+" "+rem+"% used")
			continue
		default:
			continue
		}
		item := name + " " + rem
		if limit != "" {
			item += "/" + limit
		}
		items = append(items, item)
	}
	sort.Strings(items)
	return strings.Join(items, ", ")
}
