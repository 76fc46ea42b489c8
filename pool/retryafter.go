package pool

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps any server hint ParseRetryAfter accepts: a header
// saying "wait a year" is a bug or an attack, never a plan.
const MaxRetryAfter = 7 * 24 * time.Hour

// ParseRetryAfter parses a Retry-After header value relative to now: either
// delta-seconds ("120") or an HTTP-date in any of the three forms
// http.ParseTime accepts (RFC 1123, RFC 850, asctime). It reports false for
// an empty, negative, fractional or malformed value. A date in the past
// means "now". Values beyond MaxRetryAfter are capped to it.
func ParseRetryAfter(value string, now time.Time) (time.Time, bool) {
	v := strings.TrimSpace(value)
	if v == "" {
		return time.Time{}, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return time.Time{}, false
			}
		}
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(MaxRetryAfter/time.Second) {
			// Too many digits to be honest: cap.
			return now.Add(MaxRetryAfter), true
		}
		return now.Add(time.Duration(secs) * time.Second), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}, false
	}
	if !t.After(now) {
		return now, true
	}
	if t.Sub(now) > MaxRetryAfter {
		return now.Add(MaxRetryAfter), true
	}
	return t, true
}
