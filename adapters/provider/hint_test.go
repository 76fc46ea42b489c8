package provider

import (
	"math"
	"net/http"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

type parseCase struct {
	in     string
	want   time.Time
	wantOK bool
}

func runParse(t *testing.T, name string, f func(string, time.Time) (time.Time, bool), cases []parseCase) {
	t.Helper()
	for _, c := range cases {
		got, ok := f(c.in, now)
		if ok != c.wantOK || !got.Equal(c.want) {
			t.Errorf("%s(%q) = %v, %v; want %v, %v", name, c.in, got, ok, c.want, c.wantOK)
		}
	}
}

var capped = now.Add(MaxRetryAfter)

func TestGoDuration(t *testing.T) {
	runParse(t, "GoDuration", GoDuration, []parseCase{
		{"1s", now.Add(time.Second), true},
		{"6m0s", now.Add(6 * time.Minute), true},
		{"12ms", now.Add(12 * time.Millisecond), true},
		{"1m30.5s", now.Add(90*time.Second + 500*time.Millisecond), true},
		{"0.479417207s", now.Add(479417207 * time.Nanosecond), true},
		{" 30s ", now.Add(30 * time.Second), true},
		{"0", now, true},
		{"4h30m28.060903746s", now.Add(4*time.Hour + 30*time.Minute + 28*time.Second + 60903746), true},
		{"9000h", capped, true},
		{"", time.Time{}, false},
		{"-1s", time.Time{}, false},
		{"+1s", time.Time{}, false},
		{"30", time.Time{}, false},
		{"soon", time.Time{}, false},
		{"1s1", time.Time{}, false},
		{"99999999999999999999h", time.Time{}, false},
		{"1d", time.Time{}, false},
	})
}

func TestUnixSeconds(t *testing.T) {
	runParse(t, "UnixSeconds", unixSeconds, []parseCase{
		{"1773501000", time.Unix(1773501000, 0), true},
		{"1773501000.5", time.Unix(1773501000, 5e8), true},
		{"1000", now, true}, // in the past: now
		{"99999999999", capped, true},
		{"999999999999999999999999", capped, true},
		{"-5", time.Time{}, false},
		{"1e10", time.Time{}, false},
		{"0x10", time.Time{}, false},
		{"12.", time.Time{}, false},
		{".5", time.Time{}, false},
		{"1.2.3", time.Time{}, false},
		{"", time.Time{}, false},
		{"2026-03-14T16:00:00Z", time.Time{}, false},
	})
}

func TestRFC3339(t *testing.T) {
	runParse(t, "RFC3339", RFC3339, []parseCase{
		{"2026-03-14T16:00:00Z", time.Date(2026, 3, 14, 16, 0, 0, 0, time.UTC), true},
		{"2026-03-14T17:00:00.5+01:00", time.Date(2026, 3, 14, 16, 0, 0, 5e8, time.UTC), true},
		{"2020-01-01T00:00:00Z", now, true},
		{"3026-01-01T00:00:00Z", capped, true},
		{"2026-13-45T99:00:00Z", time.Time{}, false},
		{"Sat, 14 Mar 2026 16:00:00 GMT", time.Time{}, false},
		{"1773501000", time.Time{}, false},
	})
}

func TestTimestamp(t *testing.T) {
	runParse(t, "Timestamp", Timestamp, []parseCase{
		{"1773501000", time.Unix(1773501000, 0), true},
		{"2026-03-14T16:00:00Z", time.Date(2026, 3, 14, 16, 0, 0, 0, time.UTC), true},
		{"tomorrow", time.Time{}, false},
	})
}

func TestMilliseconds(t *testing.T) {
	runParse(t, "Milliseconds", milliseconds, []parseCase{
		{"1500", now.Add(1500 * time.Millisecond), true},
		{"250.5", now.Add(250500 * time.Microsecond), true},
		{"99999999999999999999", capped, true},
		{"-1", time.Time{}, false},
		{"1s", time.Time{}, false},
	})
}

func TestSecondsAndUnixNumbers(t *testing.T) {
	cases := []struct {
		name   string
		f      func(float64, time.Time) (time.Time, bool)
		in     float64
		want   time.Time
		wantOK bool
	}{
		{"seconds", Seconds, 90, now.Add(90 * time.Second), true},
		{"seconds fraction", Seconds, 0.25, now.Add(250 * time.Millisecond), true},
		{"seconds huge", Seconds, 1e300, capped, true},
		{"seconds inf", Seconds, math.Inf(1), capped, true},
		{"seconds negative", Seconds, -1, time.Time{}, false},
		{"seconds nan", Seconds, math.NaN(), time.Time{}, false},
		{"unix", Unix, 1773501000, time.Unix(1773501000, 0), true},
		{"unix past", Unix, 1, now, true},
		{"unix huge", Unix, 1e300, capped, true},
		{"unix negative", Unix, -1773501000, time.Time{}, false},
		{"unix nan", Unix, math.NaN(), time.Time{}, false},
	}
	for _, c := range cases {
		got, ok := c.f(c.in, now)
		if ok != c.wantOK || !got.Equal(c.want) {
			t.Errorf("%s(%v) = %v, %v; want %v, %v", c.name, c.in, got, ok, c.want, c.wantOK)
		}
	}
}

func TestRetryIn(t *testing.T) {
	runParse(t, "RetryIn", RetryIn, []parseCase{
		{"Resource exhausted. Please retry in 10h17m5.7s.", now.Add(10*time.Hour + 17*time.Minute + 5700*time.Millisecond), true},
		{"Please retry in 34.074824224s", now.Add(34074824224), true},
		{"Your quota will reset after 45s.", now.Add(45 * time.Second), true},
		{"please RETRY IN 900ms", now.Add(900 * time.Millisecond), true},
		{"Please retry in a while", time.Time{}, false},
		{"Please retry in -5s", time.Time{}, false},
		{"no hint here", time.Time{}, false},
	})
}

func TestCapAndAfter(t *testing.T) {
	if got := Cap(now, now.Add(-time.Hour)); !got.Equal(now) {
		t.Errorf("Cap(past) = %v", got)
	}
	if got := Cap(now, now.Add(365*24*time.Hour)); !got.Equal(capped) {
		t.Errorf("Cap(year) = %v", got)
	}
	if _, ok := after(now, -time.Second); ok {
		t.Error("After(negative) reported a hint")
	}
	if got, _ := after(now, 1<<62); !got.Equal(capped) {
		t.Errorf("After(huge) = %v", got)
	}
}

func TestEarliestLatest(t *testing.T) {
	a, b := now.Add(time.Minute), now.Add(time.Hour)
	if got := earliest(time.Time{}, b, a); !got.Equal(a) {
		t.Errorf("Earliest = %v", got)
	}
	if got := latest(a, time.Time{}, b); !got.Equal(b) {
		t.Errorf("Latest = %v", got)
	}
	if !earliest().IsZero() || !latest(time.Time{}).IsZero() {
		t.Error("empty Earliest/Latest not zero")
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{
		"rate_limit_exceeded":          "rate_limit_exceeded",
		"RESOURCE_EXHAUSTED":           "RESOURCE_EXHAUSTED",
		"google.rpc.x-1":               "google.rpc.x-1",
		"":                             "",
		"has space":                    "",
		"sk-ant-api03-abc\n":           "",
		"<script>":                     "",
		string(make([]byte, 65)):       "",
		"a234567890123456789012345678": "a234567890123456789012345678",
	} {
		if got := Code(in); got != want {
			t.Errorf("Code(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{"1s", "1773501000", "2026-03-14T16:00:00Z", "retry in 5s", "-1", "1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []func(string, time.Time) (time.Time, bool){GoDuration, unixSeconds, RFC3339, Timestamp, milliseconds, RetryIn} {
			got, ok := p(s, now)
			if !ok {
				if !got.IsZero() {
					t.Fatalf("not ok but non-zero time %v", got)
				}
				continue
			}
			if got.Before(now) || got.After(capped) {
				t.Fatalf("%q gave %v outside [now, now+max]", s, got)
			}
		}
	})
}

func TestRetryAfter(t *testing.T) {
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			x.Set(kv[i], kv[i+1])
		}
		return x
	}
	cases := []struct {
		name   string
		header http.Header
		want   time.Time
		wantOK bool
	}{
		{"seconds", h("Retry-After", "30"), now.Add(30 * time.Second), true},
		{"http date", h("Retry-After", "Sat, 14 Mar 2026 15:10:26 GMT"), now.Add(time.Minute), true},
		{"ms wins", h("retry-after-ms", "250", "Retry-After", "30"), now.Add(250 * time.Millisecond), true},
		{"bad ms falls back", h("retry-after-ms", "-5", "Retry-After", "2"), now.Add(2 * time.Second), true},
		{"huge", h("Retry-After", "999999999999999"), capped, true},
		{"garbage", h("Retry-After", "later"), time.Time{}, false},
		{"none", h(), time.Time{}, false},
	}
	for _, c := range cases {
		got, ok := RetryAfter(c.header, now)
		if ok != c.wantOK || !got.Equal(c.want) {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.wantOK)
		}
	}
}

func TestResets(t *testing.T) {
	limits := []Limit{{"r-remaining", "r-reset"}, {"t-remaining", "t-reset"}}
	cases := []struct {
		name string
		kv   []string
		want time.Time
	}{
		{"exhausted wins", []string{"r-remaining", "5", "r-reset", "1s", "t-remaining", "0", "t-reset", "1m"}, now.Add(time.Minute)},
		{"latest exhausted", []string{"r-remaining", "0", "r-reset", "2m", "t-remaining", "0", "t-reset", "1m"}, now.Add(2 * time.Minute)},
		{"earliest when unknown", []string{"r-reset", "2m", "t-reset", "1m"}, now.Add(time.Minute)},
		{"garbage skipped", []string{"r-remaining", "0", "r-reset", "x", "t-reset", "3s"}, now.Add(3 * time.Second)},
		{"nothing", nil, time.Time{}},
	}
	for _, c := range cases {
		h := http.Header{}
		for i := 0; i < len(c.kv); i += 2 {
			h.Set(c.kv[i], c.kv[i+1])
		}
		if got := Resets(h, limits, GoDuration, now); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Time
		wantOK bool
	}{
		{"120", at.Add(2 * time.Minute), true},
		{" 0 ", at, true},
		{"604800", at.Add(MaxRetryAfter), true},
		{"604801", at.Add(MaxRetryAfter), true},
		{"99999999999999999999999", at.Add(MaxRetryAfter), true},
		{"Sun, 01 Jun 2025 12:00:30 GMT", at.Add(30 * time.Second), true},
		{"Sunday, 01-Jun-25 12:01:00 GMT", at.Add(time.Minute), true},
		{"Sun Jun  1 13:00:00 2025", at.Add(time.Hour), true},
		{"Sat, 31 May 2025 12:00:00 GMT", at, true},
		{"Sun, 01 Jun 2026 12:00:00 GMT", at.Add(MaxRetryAfter), true},
		{"", time.Time{}, false},
		{"-5", time.Time{}, false},
		{"1.5", time.Time{}, false},
		{"12abc", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, at)
		if ok != tt.wantOK || !got.Equal(tt.want) {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
