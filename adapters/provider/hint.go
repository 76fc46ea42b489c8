package provider

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cap bounds t to [now, now+MaxRetryAfter].
func Cap(now, t time.Time) time.Time {
	if t.Before(now) {
		return now
	}
	if limit := now.Add(MaxRetryAfter); t.After(limit) {
		return limit
	}
	return t
}

// after returns now+d, capped. A negative d is not a hint.
func after(now time.Time, d time.Duration) (time.Time, bool) {
	if d < 0 {
		return time.Time{}, false
	}
	if d > MaxRetryAfter {
		d = MaxRetryAfter
	}
	return now.Add(d), true
}

// GoDuration parses a Go-style duration ("1s", "6m0s", "12ms",
// "1m30.5s", "0.479417207s", "4h30m28.06s") relative to now. Signs, bare
// numbers without a unit (other than "0") and overflowing values are
// rejected.
func GoDuration(value string, now time.Time) (time.Time, bool) {
	v := strings.TrimSpace(value)
	if v == "" || v[0] == '-' || v[0] == '+' {
		return time.Time{}, false
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return time.Time{}, false
	}
	return after(now, d)
}

// milliseconds parses a decimal count of milliseconds ("1500", "250.5"),
// as sent in retry-after-ms.
func milliseconds(value string, now time.Time) (time.Time, bool) {
	f, ok := decimal(value)
	if !ok {
		return time.Time{}, false
	}
	return Seconds(f/1e3, now)
}

// unixSeconds parses a unix timestamp in seconds, integer or decimal
// ("1754450400", "1754450400.25"), capped relative to now.
func unixSeconds(value string, now time.Time) (time.Time, bool) {
	f, ok := decimal(value)
	if !ok {
		return time.Time{}, false
	}
	return Unix(f, now)
}

// RFC3339 parses an RFC 3339 timestamp, capped relative to now.
func RFC3339(value string, now time.Time) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(value))
	if err != nil {
		return time.Time{}, false
	}
	return Cap(now, t), true
}

// Timestamp accepts either unix seconds or RFC 3339, the two forms seen
// for subscription window resets.
func Timestamp(value string, now time.Time) (time.Time, bool) {
	if t, ok := unixSeconds(value, now); ok {
		return t, true
	}
	return RFC3339(value, now)
}

// RetryIn finds a "retry in", "try again in", "retry after" or "reset
// after" phrase followed by a Go-style duration in a provider message
// ("Please retry in 10h17m5.7s.", "Please try again in 1.898s.", "Your
// quota will reset after 45s.") and returns now plus that duration.
func RetryIn(message string, now time.Time) (time.Time, bool) {
	lower := strings.ToLower(message)
	for _, marker := range []string{"retry in ", "try again in ", "reset after ", "retry after "} {
		i := strings.Index(lower, marker)
		if i < 0 {
			continue
		}
		rest := lower[i+len(marker):]
		end := 0
		for end < len(rest) && end < 64 && strings.IndexByte("0123456789.hmsµu", rest[end]) >= 0 {
			end++
		}
		tok := strings.TrimRight(rest[:end], ".")
		if t, ok := GoDuration(tok, now); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// earliest returns the earliest non-zero time, or zero.
func earliest(ts ...time.Time) time.Time {
	var best time.Time
	for _, t := range ts {
		if !t.IsZero() && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	return best
}

// latest returns the latest non-zero time, or zero.
func latest(ts ...time.Time) time.Time {
	var best time.Time
	for _, t := range ts {
		if !t.IsZero() && t.After(best) {
			best = t
		}
	}
	return best
}

// maxCodeLen bounds a code copied from a response into an Outcome.
const maxCodeLen = 64

// Code returns s when it is a short identifier (1 to 64 bytes of
// [A-Za-z0-9_.:-]), else "". A response body is untrusted: only
// identifiers of this shape may become an Outcome.Reason or an error's
// code, never free text that could echo a credential.
func Code(s string) string {
	if len(s) > maxCodeLen {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':'
		if !ok {
			return ""
		}
	}
	return s
}

// decimal parses an unsigned decimal number: digits, optionally one '.'
// followed by digits. No signs, exponents, spaces inside, or hex.
func decimal(value string) (float64, bool) {
	v := strings.TrimSpace(value)
	if v == "" || len(v) > 32 {
		return 0, false
	}
	dot := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(v)-1:
			dot = true
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// RetryAfter reads a response's explicit wait: retry-after-ms (decimal
// milliseconds, sent by some APIs for sub-second waits) when valid, else
// Retry-After (delta-seconds or HTTP-date, via ParseRetryAfter).
func RetryAfter(h http.Header, now time.Time) (time.Time, bool) {
	if t, ok := milliseconds(h.Get("retry-after-ms"), now); ok {
		return t, true
	}
	if t, ok := ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return Cap(now, t), true
	}
	return time.Time{}, false
}

// Limit names the headers of one rate limit: how much is left and when
// it resets.
type Limit struct {
	Remaining string
	Reset     string
}

// Resets combines the reset headers of several limits (requests, tokens…)
// parsed with parse: the latest reset among limits whose remaining count
// is "0" (those are the ones exhausted), or, when none says so, the
// earliest reset given. Zero when no reset parses.
func Resets(h http.Header, limits []Limit, parse func(string, time.Time) (time.Time, bool), now time.Time) time.Time {
	var exhausted, all []time.Time
	for _, l := range limits {
		t, ok := parse(h.Get(l.Reset), now)
		if !ok {
			continue
		}
		all = append(all, t)
		if strings.TrimSpace(h.Get(l.Remaining)) == "0" {
			exhausted = append(exhausted, t)
		}
	}
	if len(exhausted) > 0 {
		return latest(exhausted...)
	}
	return earliest(all...)
}

// Seconds returns now plus a count of seconds read from a JSON number,
// capped. Negative, NaN and infinite values are not hints.
func Seconds(secs float64, now time.Time) (time.Time, bool) {
	if secs != secs || secs < 0 {
		return time.Time{}, false
	}
	if secs >= MaxRetryAfter.Seconds() {
		// Also catches +Inf before the conversion below could overflow.
		return now.Add(MaxRetryAfter), true
	}
	return now.Add(time.Duration(secs * float64(time.Second))), true
}

// Unix converts a unix timestamp in seconds read from a JSON number,
// capped relative to now. Negative, NaN and infinite values are not hints.
func Unix(secs float64, now time.Time) (time.Time, bool) {
	if secs != secs || secs < 0 {
		return time.Time{}, false
	}
	// Anything beyond the year 9999 overflows time arithmetic below and
	// is capped anyway.
	if secs > 253402300799 {
		return now.Add(MaxRetryAfter), true
	}
	whole := int64(secs)
	frac := int64((secs - float64(whole)) * 1e9)
	return Cap(now, time.Unix(whole, frac)), true
}

// MaxRetryAfter caps every hint this package parses: a header saying
// "wait a year" is a bug or an attack, never a plan. The pool honours an
// exhausted quota's hint up to the same 7 days.
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
