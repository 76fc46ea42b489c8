package fuzz_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authvault/authvault/adapters/provider"
)

// FuzzRetryAfter checks provider.ParseRetryAfter on any header value and any
// current time: it never panics; an accepted value lands between now and
// now+MaxRetryAfter; a rejected one yields the zero time; delta-seconds
// mean exactly that many seconds; and every accepted result, written back
// as delta-seconds (or, when uncapped and in the future, as an HTTP-date),
// parses to the same instant.
func FuzzRetryAfter(f *testing.F) {
	seeds := []string{
		"", "0", "1", "120", " 30 ", "604800", "604801", "99999999999999999999",
		"-1", "+5", "1.5", "1e3", "0x10", "12abc",
		"Wed, 21 Oct 2015 07:28:00 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994",
		"Fri, 31 Dec 9999 23:59:59 GMT",
		"Mon, 01 Jan 2024 00:00:00 PST",
	}
	for _, s := range seeds {
		f.Add(s, int64(1700000000))
	}
	f.Fuzz(func(t *testing.T, value string, nowUnix int64) {
		// Any instant from 1970 to about 2514, in whole seconds as
		// HTTP-dates are.
		now := time.Unix(int64(uint64(nowUnix)%(1<<34)), 0).UTC()
		limit := now.Add(provider.MaxRetryAfter)

		got, ok := provider.ParseRetryAfter(value, now)
		if !ok {
			if !got.IsZero() {
				t.Fatalf("ParseRetryAfter(%q) rejected it but returned %v", value, got)
			}
			return
		}
		if got.Before(now) || got.After(limit) {
			t.Fatalf("ParseRetryAfter(%q, %v) = %v, outside [now, now+%v]", value, now, got, provider.MaxRetryAfter)
		}

		v := strings.TrimSpace(value)
		if secs, err := strconv.ParseUint(v, 10, 64); err == nil && v[0] != '+' {
			want := limit
			if secs <= uint64(provider.MaxRetryAfter/time.Second) {
				want = now.Add(time.Duration(secs) * time.Second)
			}
			if !got.Equal(want) {
				t.Fatalf("ParseRetryAfter(%q, %v) = %v, want %v", value, now, got, want)
			}
		}

		delta := got.Sub(now)
		if delta%time.Second != 0 {
			t.Fatalf("ParseRetryAfter(%q, %v) = %v: not a whole number of seconds after now", value, now, got)
		}
		back := strconv.FormatInt(int64(delta/time.Second), 10)
		if again, ok := provider.ParseRetryAfter(back, now); !ok || !again.Equal(got) {
			t.Fatalf("round trip of %q through %q: %v, %v; want %v", value, back, again, ok, got)
		}
		if got.After(now) && got.Before(limit) {
			date := got.Format(http.TimeFormat)
			if again, ok := provider.ParseRetryAfter(date, now); !ok || !again.Equal(got) {
				t.Fatalf("round trip of %q through %q: %v, %v; want %v", value, date, again, ok, got)
			}
		}
	})
}
