package google

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
)

const (
	geminiURL     = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
	codeAssistURL = "https://cloudcode-pa.googleapis.com/v1internal:streamGenerateContent?alt=sse"
)

func TestClassify(t *testing.T) {
	h := adaptertest.Headers
	cases := []struct {
		name    string
		status  int
		header  http.Header
		url     string
		fixture string
		want    pool.Outcome
	}{
		{"success", 200, nil, geminiURL, "success.json", pool.Outcome{Kind: pool.Success, Status: 200}},
		{"rate limit: RetryInfo first", 429, h("retry-after", "60"), codeAssistURL, "rate_limit_exceeded.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "RATE_LIMIT_EXCEEDED", Model: "gemini-2.5-pro", Until: now.Add(479417207 * time.Nanosecond)}},
		{"quota exhausted: reset timestamp first", 429, nil, codeAssistURL, "quota_exhausted.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "QUOTA_EXHAUSTED", Model: "gemini-2.5-pro", Until: time.Date(2026, 3, 15, 1, 26, 31, 0, time.UTC)}},
		{"quota exhausted: reset delay", 429, nil, codeAssistURL, "quota_exhausted_delay_only.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "QUOTA_EXHAUSTED", Until: now.Add(4*time.Hour + 30*time.Minute + 28060903746)}},
		{"free tier daily quota", 429, nil, geminiURL, "free_tier_daily.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "RESOURCE_EXHAUSTED", Model: "gemini-2.0-flash", Until: now.Add(34 * time.Second)}},
		{"free tier per minute", 429, nil, geminiURL, "free_tier_per_minute.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "RESOURCE_EXHAUSTED", Model: "gemini-2.0-flash", Until: now.Add(30 * time.Second)}},
		{"message only", 429, nil, geminiURL, "message_only.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "RESOURCE_EXHAUSTED", Model: "gemini-2.0-flash", Until: now.Add(10*time.Hour + 17*time.Minute + 5700*time.Millisecond)}},
		{"retry-after header", 429, h("retry-after", "12"), codeAssistURL, "not_json.html",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "RESOURCE_EXHAUSTED", Until: now.Add(12 * time.Second)}},
		{"streaming array body", 429, nil, codeAssistURL, "streaming_array.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "RESOURCE_EXHAUSTED", Until: now.Add(30 * time.Second)}},
		{"hostile hints ignored", 429, nil, codeAssistURL, "hostile_hints.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "RATE_LIMIT_EXCEEDED"}},
		{"huge hints capped", 429, nil, codeAssistURL, "huge_hints.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "QUOTA_EXHAUSTED", Until: now.Add(provider.MaxRetryAfter)}},
		{"503 unavailable", 503, nil, geminiURL, "unavailable.json", pool.Outcome{Kind: pool.Overloaded, Status: 503, Reason: "UNAVAILABLE"}},
		{"503 without body", 503, nil, geminiURL, "", pool.Outcome{Kind: pool.Overloaded, Status: 503, Reason: "UNAVAILABLE"}},
		{"401", 401, nil, codeAssistURL, "unauthenticated.json", pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "ACCESS_TOKEN_EXPIRED"}},
		{"400 invalid api key", 400, nil, geminiURL, "api_key_invalid.json", pool.Outcome{Kind: pool.AuthRejected, Status: 400, Reason: "API_KEY_INVALID"}},
		{"403 scopes", 403, nil, geminiURL, "permission_denied.json", pool.Outcome{Kind: pool.AuthRejected, Status: 403, Reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}},
		{"403 validation required", 403, nil, codeAssistURL, "validation_required.json", pool.Outcome{Kind: pool.Fatal, Status: 403, Reason: "VALIDATION_REQUIRED"}},
		{"403 service disabled", 403, nil, codeAssistURL, "service_disabled.json", pool.Outcome{Kind: pool.Fatal, Status: 403, Reason: "SERVICE_DISABLED"}},
		{"400 invalid argument is the caller's", 400, nil, geminiURL, "invalid_argument.json", pool.Outcome{Kind: pool.Success, Status: 400, Reason: "INVALID_ARGUMENT"}},
		{"500", 500, nil, geminiURL, "internal.json", pool.Outcome{Kind: pool.Transient, Status: 500, Reason: "INTERNAL"}},
		{"502 html", 502, nil, geminiURL, "not_json.html", pool.Outcome{Kind: pool.Transient, Status: 502}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := adaptertest.FixtureResponse(t, c.status, c.header, c.fixture, c.url)
			adaptertest.Classified(t, New().Classify, resp, body, now, c.want)
		})
	}
}

func TestClassifyLargeBody(t *testing.T) {
	q := adaptertest.Fixture(t, "quota_exhausted.json")
	body := append(bytes.Repeat([]byte(" "), 10<<20), q...)
	resp := adaptertest.Response(429, adaptertest.Headers("retry-after", "5"), body, codeAssistURL)
	want := pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "RESOURCE_EXHAUSTED", Until: now.Add(5 * time.Second)}
	adaptertest.Classified(t, New().Classify, resp, body, now, want)
	for _, garbage := range []string{`{"error":[1,2]}`, `{"error":{"details":"x"}}`, `[{"error":null}]`, `[`, `null`, `{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":12}]}}`} {
		resp := adaptertest.Response(429, nil, []byte(garbage), geminiURL)
		if got := New().Classify(resp, now); got.Kind != pool.RateLimited || !got.Until.IsZero() {
			t.Errorf("%s: %+v", garbage, got)
		}
		adaptertest.BodyRestored(t, resp, []byte(garbage))
	}
	if got := New().Classify(nil, now); got.Kind != pool.Transient {
		t.Errorf("nil: %+v", got)
	}
}

func TestModelFromPath(t *testing.T) {
	for in, want := range map[string]string{
		"/v1beta/models/gemini-2.5-pro:generateContent":                           "gemini-2.5-pro",
		"/v1/projects/p/locations/us/publishers/google/models/gemini-2.0-flash:x": "gemini-2.0-flash",
		"/v1internal:generateContent":                                             "",
		"/v1beta/models/<bad>:x":                                                  "",
	} {
		if got := modelFromPath(in); got != want {
			t.Errorf("modelFromPath(%q) = %q, want %q", in, got, want)
		}
	}
}
