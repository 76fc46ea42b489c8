package openai

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
)

const responsesURL = "https://api.openai.com/v1/responses"

func TestClassify(t *testing.T) {
	h := adaptertest.Headers
	cases := []struct {
		name    string
		status  int
		header  http.Header
		fixture string
		want    pool.Outcome
	}{
		{"success", 200, h("x-ratelimit-remaining-requests", "0"), "success.json", pool.Outcome{Kind: pool.Success, Status: 200}},
		{"429 retry-after", 429, h("retry-after", "20", "x-ratelimit-reset-tokens", "6m0s"), "rate_limit_tokens.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: now.Add(20 * time.Second)}},
		{"429 retry-after http-date", 429, h("retry-after", "Sat, 14 Mar 2026 15:10:26 GMT"), "rate_limit_tokens.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: now.Add(time.Minute)}},
		{"429 tokens exhausted", 429, h(
			"x-ratelimit-remaining-requests", "499", "x-ratelimit-reset-requests", "120ms",
			"x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "1m30.5s"), "rate_limit_tokens.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: now.Add(90*time.Second + 500*time.Millisecond)}},
		{"429 requests exhausted", 429, h(
			"x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "12ms",
			"x-ratelimit-remaining-tokens", "2000", "x-ratelimit-reset-tokens", "6m0s"), "rate_limit_requests.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: now.Add(12 * time.Millisecond)}},
		{"429 earliest reset without remaining", 429, h("x-ratelimit-reset-requests", "1s", "x-ratelimit-reset-tokens", "6m0s"), "rate_limit_requests.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: now.Add(time.Second)}},
		{"429 message hint", 429, nil, "rate_limit_tokens.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: now.Add(1600 * time.Millisecond)}},
		{"429 no hint", 429, nil, "rate_limit_requests.json", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded"}},
		{"429 html", 429, nil, "not_json.html", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded"}},
		{"429 numeric code", 429, nil, "numeric_code.json", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded"}},
		{"insufficient_quota", 429, h("retry-after", "1"), "insufficient_quota.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "insufficient_quota", Until: now.Add(InsufficientQuotaCooldown)}},
		{"usage limit resets_at", 429, nil, "usage_limit_reached.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "usage_limit_reached", Until: now.Add(time.Hour)}},
		{"usage limit resets_in_seconds", 429, nil, "usage_limit_seconds_only.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "usage_limit_reached", Until: now.Add(90 * time.Minute)}},
		{"usage limit hostile values fall back to retry-after", 429, h("retry-after", "300"), "usage_limit_hostile.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "usage_limit_reached", Until: now.Add(5 * time.Minute)}},
		{"usage limit huge resets_at capped", 429, nil, "usage_limit_huge.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "usage_limit_reached", Until: now.Add(provider.MaxRetryAfter)}},
		{"usage limit without hint", 429, nil, "usage_limit_bare.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "usage_limit_reached"}},
		{"401", 401, nil, "invalid_api_key.json", pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "invalid_api_key"}},
		{"401 no body", 401, nil, "", pool.Outcome{Kind: pool.AuthRejected, Status: 401}},
		{"403 country", 403, nil, "unsupported_country.json", pool.Outcome{Kind: pool.Fatal, Status: 403, Reason: "unsupported_country_region_territory"}},
		{"usage not included", 403, nil, "usage_not_included.json", pool.Outcome{Kind: pool.Fatal, Status: 403, Reason: "usage_not_included"}},
		{"503 overloaded", 503, nil, "server_overloaded.json", pool.Outcome{Kind: pool.Overloaded, Status: 503, Reason: "server_error"}},
		{"500", 500, nil, "server_error.json", pool.Outcome{Kind: pool.Transient, Status: 500, Reason: "server_error"}},
		{"502 html", 502, nil, "not_json.html", pool.Outcome{Kind: pool.Transient, Status: 502}},
		{"400 is the caller's", 400, nil, "invalid_request.json", pool.Outcome{Kind: pool.Success, Status: 400, Reason: "invalid_request_error"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := adaptertest.FixtureResponse(t, c.status, c.header, c.fixture, responsesURL)
			adaptertest.Classified(t, New().Classify, resp, body, now, c.want)
		})
	}
}

func TestClassifyHostileHeaders(t *testing.T) {
	body := adaptertest.Fixture(t, "rate_limit_requests.json")
	adaptertest.RateLimitHints(t, New().Classify, responsesURL, body, now, []adaptertest.HintCase{
		{Name: "garbage duration", Header: adaptertest.Headers("x-ratelimit-reset-requests", "soon"), Want: time.Time{}},
		{Name: "negative duration", Header: adaptertest.Headers("x-ratelimit-reset-tokens", "-6m0s"), Want: time.Time{}},
		{Name: "bare number", Header: adaptertest.Headers("x-ratelimit-reset-tokens", "60"), Want: time.Time{}},
		{Name: "overflowing duration", Header: adaptertest.Headers("x-ratelimit-reset-tokens", "9999999999999h"), Want: time.Time{}},
		{Name: "year-long duration", Header: adaptertest.Headers("x-ratelimit-reset-tokens", "8760h"), Want: now.Add(provider.MaxRetryAfter)},
		{Name: "garbage retry-after", Header: adaptertest.Headers("retry-after", "tomorrow"), Want: time.Time{}},
		{Name: "negative retry-after", Header: adaptertest.Headers("retry-after", "-1"), Want: time.Time{}},
		{Name: "huge retry-after", Header: adaptertest.Headers("retry-after", "4000000000000000000000"), Want: now.Add(provider.MaxRetryAfter)},
	})
}

func TestClassifyLargeBody(t *testing.T) {
	quota := adaptertest.Fixture(t, "insufficient_quota.json")
	body := append(bytes.Repeat([]byte("\n"), 10<<20), quota...)
	resp := adaptertest.Response(429, adaptertest.Headers("retry-after", "3"), body, responsesURL)
	want := pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_exceeded", Until: now.Add(3 * time.Second)}
	adaptertest.Classified(t, New().Classify, resp, body, now, want)
	if got := New().Classify(nil, now); got.Kind != pool.Transient {
		t.Errorf("nil response: %+v", got)
	}
}
