package provider

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/pool"
)

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestClassifierFixtures(t *testing.T) {
	qwenLike := Classifier{Quota: []string{"Throttling.AllocationQuota"}}
	tests := []struct {
		file string
		cl   Classifier
		want pool.Outcome
	}{
		{"ok.http", Classifier{}, pool.Outcome{Kind: pool.Success, Status: 200}},
		{"rate_limit_retry_after.http", Classifier{}, pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: testNow.Add(20 * time.Second)}},
		{"rate_limit_reset_headers.http", Classifier{}, pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: testNow.Add(6 * time.Minute)}},
		{"insufficient_quota.http", Classifier{}, pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "insufficient_quota"}},
		{"dashscope_allocation_quota.http", Classifier{}, pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "insufficient_quota", Until: testNow}},
		{"dashscope_allocation_quota.http", qwenLike, pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "Throttling.AllocationQuota", Until: testNow}},
		{"dashscope_native_throttling.http", qwenLike, pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "Throttling.RateQuota"}},
		{"payment_required.http", Classifier{}, pool.Outcome{Kind: pool.QuotaExhausted, Status: 402, Reason: "payment_required"}},
		{"invalid_api_key.http", Classifier{}, pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "invalid_api_key"}},
		{"forbidden_text.http", Classifier{}, pool.Outcome{Kind: pool.AuthRejected, Status: 403, Reason: "forbidden"}},
		{"overloaded_503.http", Classifier{}, pool.Outcome{Kind: pool.Overloaded, Status: 503, Reason: "server_error", Until: testNow.Add(5 * time.Second)}},
		{"overloaded_529.http", Classifier{}, pool.Outcome{Kind: pool.Overloaded, Status: 529, Reason: "overloaded_error"}},
		{"server_error_html.http", Classifier{}, pool.Outcome{Kind: pool.Transient, Status: 500, Reason: "server_error"}},
		{"bad_request.http", Classifier{}, pool.Outcome{Kind: pool.Success, Status: 400}},
		{"hostile_garbage.http", Classifier{}, pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited"}},
		{"hostile_huge_retry.http", Classifier{}, pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited", Until: testNow.Add(MaxRetryAfter)}},
		{"cursor_style.http", Classifier{}, pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			adaptertest.ClassifyFixture(t, tt.cl.Classify, tt.file, testNow, tt.want)
		})
	}
}

func TestClassifyHugeBodyRestored(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 10<<20)
	body := append([]byte(`{"error":{"code":"insufficient_quota","message":"`), big...)
	resp := &http.Response{StatusCode: 429, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
	got := Classifier{}.Classify(resp, testNow)
	// Only the first adapters.MaxErrorBody bytes are read: the JSON is cut
	// short, so no code is trusted.
	want := pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Classify (-want +got):\n%s", diff)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rest, body) {
		t.Errorf("10 MB body not restored byte-identical (len %d, want %d)", len(rest), len(body))
	}
}

func TestClassifyNil(t *testing.T) {
	got := Classifier{}.Classify(nil, testNow)
	if diff := cmp.Diff(pool.Outcome{Kind: pool.Transient, Reason: "no_response"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestClassifySuccessBodyUntouched(t *testing.T) {
	// A streamed success must not be read by Classify at all.
	r := &countingReader{r: strings.NewReader("data: {}\n\n")}
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(r)}
	Classifier{}.Classify(resp, testNow)
	if r.n != 0 {
		t.Errorf("Classify read %d bytes of a 200 body", r.n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		code, typ string
	}{
		{"openai", `{"error":{"code":"rate_limit_exceeded","type":"requests"}}`, "rate_limit_exceeded", "requests"},
		{"numeric code", `{"error":{"code":429,"type":"rate_limit"}}`, "", "rate_limit"},
		{"string error", `{"error":"Too Many Requests"}`, "", ""},
		{"top level", `{"code":"Throttling","message":"x"}`, "Throttling", ""},
		{"not json", `<html>`, "", ""},
		{"empty", ``, "", ""},
		{"too long", `{"error":{"code":"` + strings.Repeat("a", 65) + `"}}`, "", ""},
		{"control chars", `{"error":{"code":"a\nb"}}`, "", ""},
		{"array", `[1,2]`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, typ := ErrorCode([]byte(tt.body))
			if code != tt.code || typ != tt.typ {
				t.Errorf("ErrorCode = %q, %q; want %q, %q", code, typ, tt.code, tt.typ)
			}
		})
	}
}

func TestRateLimitReset(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   time.Time
		ok     bool
	}{
		{"none", http.Header{}, time.Time{}, false},
		{"exhausted wins", http.Header{"X-Ratelimit-Reset-Requests": {"1s"}, "X-Ratelimit-Remaining-Requests": {"0"}, "X-Ratelimit-Reset-Tokens": {"1m"}, "X-Ratelimit-Remaining-Tokens": {"5"}}, testNow.Add(time.Second), true},
		{"latest of all", http.Header{"X-Ratelimit-Reset-Requests": {"1s"}, "X-Ratelimit-Reset-Tokens": {"1m30s"}}, testNow.Add(90 * time.Second), true},
		{"garbage", http.Header{"X-Ratelimit-Reset-Requests": {"tomorrow"}}, time.Time{}, false},
		{"negative", http.Header{"X-Ratelimit-Reset-Requests": {"-5s"}}, time.Time{}, false},
		{"capped", http.Header{"X-Ratelimit-Reset-Requests": {"100000h"}}, testNow.Add(MaxRetryAfter), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rateLimitReset(tt.header, testNow)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("rateLimitReset = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
