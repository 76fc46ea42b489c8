package anthropic

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
)

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const messagesURL = "https://api.anthropic.com/v1/messages"

func TestClassify(t *testing.T) {
	h := adaptertest.Headers
	in5h := strconv.FormatInt(now.Add(5*time.Hour).Unix(), 10)
	in3d := strconv.FormatInt(now.Add(72*time.Hour).Unix(), 10)
	cases := []struct {
		name    string
		status  int
		header  http.Header
		fixture string
		want    pool.Outcome
	}{
		{"success", 200, nil, "success.json", pool.Outcome{Kind: pool.Success, Status: 200}},
		{"success ignores unified headers", 200, h("anthropic-ratelimit-unified-status", "rejected"), "success.json", pool.Outcome{Kind: pool.Success, Status: 200}},
		{"429 retry-after", 429, h("retry-after", "30", "anthropic-ratelimit-requests-reset", "2026-03-14T15:30:00Z"), "rate_limit_error.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error", Until: now.Add(30 * time.Second)}},
		{"429 retry-after-ms wins", 429, h("retry-after-ms", "1500", "retry-after", "2"), "rate_limit_error.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error", Until: now.Add(1500 * time.Millisecond)}},
		{"429 exhausted limit's reset", 429, h(
			"anthropic-ratelimit-requests-remaining", "12", "anthropic-ratelimit-requests-reset", "2026-03-14T15:09:40Z",
			"anthropic-ratelimit-tokens-remaining", "0", "anthropic-ratelimit-tokens-reset", "2026-03-14T15:10:26Z",
			"anthropic-ratelimit-output-tokens-remaining", "0", "anthropic-ratelimit-output-tokens-reset", "2026-03-14T15:09:56Z"), "rate_limit_error.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error", Until: now.Add(time.Minute)}},
		{"429 earliest reset when none says 0", 429, h(
			"anthropic-ratelimit-requests-reset", "2026-03-14T15:09:40Z",
			"anthropic-ratelimit-input-tokens-reset", "2026-03-14T15:09:36+00:00"), "rate_limit_error.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error", Until: now.Add(10 * time.Second)}},
		{"429 no hint", 429, nil, "rate_limit_error.json", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error"}},
		{"429 not json", 429, nil, "not_json.html", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error"}},
		{"subscription window rejected (unix)", 429, h(
			"anthropic-ratelimit-unified-status", "rejected", "anthropic-ratelimit-unified-reset", in5h,
			"anthropic-ratelimit-unified-5h-status", "rejected", "anthropic-ratelimit-unified-5h-reset", in5h,
			"anthropic-ratelimit-unified-7d-status", "allowed", "anthropic-ratelimit-unified-7d-reset", in3d), "rate_limit_error.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "subscription_5h_limit", Until: now.Add(5 * time.Hour)}},
		{"subscription 7d rejected (RFC 3339)", 429, h(
			"anthropic-ratelimit-unified-7d-status", "rejected", "anthropic-ratelimit-unified-7d-reset", "2026-03-17T15:09:26Z",
			"anthropic-ratelimit-unified-5h-status", "allowed_warning", "anthropic-ratelimit-unified-5h-reset", in5h), "rate_limit_error.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "subscription_7d_limit", Until: now.Add(72 * time.Hour)}},
		{"both windows rejected: latest reset", 429, h(
			"anthropic-ratelimit-unified-5h-status", "rejected", "anthropic-ratelimit-unified-5h-reset", in5h,
			"anthropic-ratelimit-unified-7d-status", "rejected", "anthropic-ratelimit-unified-7d-reset", in3d), "rate_limit_error.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "subscription_limit", Until: now.Add(72 * time.Hour)}},
		{"overage rejected alone is not exhaustion", 429, h(
			"anthropic-ratelimit-unified-status", "allowed", "anthropic-ratelimit-unified-overage-status", "rejected", "retry-after", "5"), "rate_limit_error.json",
			pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error", Until: now.Add(5 * time.Second)}},
		{"rejected with garbage reset falls back to retry-after", 429, h(
			"anthropic-ratelimit-unified-status", "rejected", "anthropic-ratelimit-unified-reset", "next tuesday", "retry-after", "600"), "rate_limit_error.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "subscription_limit", Until: now.Add(10 * time.Minute)}},
		{"rejected without any hint", 429, h("anthropic-ratelimit-unified-status", "REJECTED"), "rate_limit_error.json",
			pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "subscription_limit"}},
		{"529 overloaded", 529, nil, "overloaded_error.json", pool.Outcome{Kind: pool.Overloaded, Status: 529, Reason: "overloaded_error"}},
		{"overloaded_error on 500", 500, nil, "overloaded_error.json", pool.Outcome{Kind: pool.Overloaded, Status: 500, Reason: "overloaded_error"}},
		{"529 without body", 529, nil, "", pool.Outcome{Kind: pool.Overloaded, Status: 529, Reason: "overloaded_error"}},
		{"spend limit with date", 429, nil, "spend_limit.json", pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "enforced_spend_limit_reached", Until: now.Add(provider.MaxRetryAfter)}},
		{"spend limit next month", 429, nil, "spend_limit_undated.json", pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "enforced_spend_limit_reached", Until: now.Add(provider.MaxRetryAfter)}},
		{"workspace limit", 400, nil, "workspace_limit.json", pool.Outcome{Kind: pool.QuotaExhausted, Status: 400, Reason: "api_usage_limits", Until: now.Add(provider.MaxRetryAfter)}},
		{"billing", 400, nil, "billing_error.json", pool.Outcome{Kind: pool.QuotaExhausted, Status: 400, Reason: "billing_error"}},
		{"401", 401, nil, "authentication_error.json", pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "authentication_error"}},
		{"401 expired oauth", 401, nil, "oauth_token_expired.json", pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "authentication_error"}},
		{"401 no body", 401, nil, "", pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "authentication_error"}},
		{"403", 403, nil, "permission_error.json", pool.Outcome{Kind: pool.AuthRejected, Status: 403, Reason: "permission_error"}},
		{"restricted credential 400", 400, nil, "credential_restricted.json", pool.Outcome{Kind: pool.Fatal, Status: 400, Reason: "credential only authorized for use with Claude Code"}},
		{"restricted credential 403", 403, nil, "credential_restricted.json", pool.Outcome{Kind: pool.Fatal, Status: 403, Reason: "credential only authorized for use with Claude Code"}},
		{"restricted credential hostile name", 400, nil, "credential_restricted_hostile.json", pool.Outcome{Kind: pool.Fatal, Status: 400, Reason: "credential only authorized for use with another client"}},
		{"invalid request is the caller's", 400, nil, "invalid_request_error.json", pool.Outcome{Kind: pool.Success, Status: 400, Reason: "invalid_request_error"}},
		{"404", 404, nil, "not_json.html", pool.Outcome{Kind: pool.Success, Status: 404}},
		{"500", 500, nil, "api_error.json", pool.Outcome{Kind: pool.Transient, Status: 500, Reason: "api_error"}},
		{"502 html", 502, nil, "not_json.html", pool.Outcome{Kind: pool.Transient, Status: 502}},
		{"408", 408, nil, "", pool.Outcome{Kind: pool.Transient, Status: 408}},
		{"truncated json", 429, h("retry-after", "1"), "truncated.json", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error", Until: now.Add(time.Second)}},
	}
	a := New()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := adaptertest.FixtureResponse(t, c.status, c.header, c.fixture, messagesURL)
			adaptertest.Classified(t, a.Classify, resp, body, now, c.want)
		})
	}
}

func TestClassifyHostileHeaders(t *testing.T) {
	body := adaptertest.Fixture(t, "rate_limit_error.json")
	adaptertest.RateLimitHints(t, New().Classify, messagesURL, body, now, []adaptertest.HintCase{
		{Name: "garbage retry-after", Header: adaptertest.Headers("retry-after", "soon"), Want: time.Time{}},
		{Name: "negative retry-after", Header: adaptertest.Headers("retry-after", "-30"), Want: time.Time{}},
		{Name: "fractional retry-after", Header: adaptertest.Headers("retry-after", "1.5"), Want: time.Time{}},
		{Name: "huge retry-after", Header: adaptertest.Headers("retry-after", "99999999999999999999999"), Want: now.Add(provider.MaxRetryAfter)},
		{Name: "year-long retry-after date", Header: adaptertest.Headers("retry-after", "Sun, 14 Mar 2027 15:09:26 GMT"), Want: now.Add(provider.MaxRetryAfter)},
		{Name: "negative retry-after-ms", Header: adaptertest.Headers("retry-after-ms", "-1"), Want: time.Time{}},
		{Name: "garbage reset dates", Header: adaptertest.Headers("anthropic-ratelimit-tokens-remaining", "0", "anthropic-ratelimit-tokens-reset", "2026-02-30T99:99:99Z"), Want: time.Time{}},
		{Name: "reset far in the future", Header: adaptertest.Headers("anthropic-ratelimit-tokens-reset", "2126-03-14T15:09:26Z"), Want: now.Add(provider.MaxRetryAfter)},
		{Name: "reset in the past", Header: adaptertest.Headers("anthropic-ratelimit-tokens-reset", "2020-01-01T00:00:00Z"), Want: now},
		{Name: "unix reset is not RFC 3339 here", Header: adaptertest.Headers("anthropic-ratelimit-tokens-reset", "1773501000"), Want: time.Time{}},
	})
	for _, v := range []string{"-1", "99999999999999999999999999", "1e12", "NaN", "2026-13-01T00:00:00Z", ""} {
		resp := adaptertest.Response(429, adaptertest.Headers("anthropic-ratelimit-unified-status", "rejected", "anthropic-ratelimit-unified-reset", v), body, messagesURL)
		got := New().Classify(resp, now)
		if got.Kind != pool.QuotaExhausted || got.Until.After(now.Add(provider.MaxRetryAfter)) || got.Until.Before(now) && !got.Until.IsZero() {
			t.Errorf("unified reset %q: %+v", v, got)
		}
	}
}

func TestClassifyLargeBody(t *testing.T) {
	// A 10 MB error body: Classify reads a bounded prefix (not valid
	// JSON on its own) and the caller still gets every byte.
	prefix := adaptertest.Fixture(t, "spend_limit.json")
	body := append(bytes.Repeat([]byte(" "), 10<<20), prefix...)
	resp := adaptertest.Response(429, adaptertest.Headers("retry-after", "7"), body, messagesURL)
	got := New().Classify(resp, now)
	want := pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limit_error", Until: now.Add(7 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	adaptertest.BodyRestored(t, resp, body)

	// A spend-limit body larger than the peek: not recognised, no panic.
	big := append(append([]byte(nil), prefix[:len(prefix)-2]...), bytes.Repeat([]byte("x"), adapters.MaxErrorBody)...)
	resp = adaptertest.Response(429, nil, big, messagesURL)
	if got := New().Classify(resp, now); got.Kind != pool.RateLimited {
		t.Errorf("oversized body: %+v", got)
	}
	adaptertest.BodyRestored(t, resp, big)
}

func TestClassifyNil(t *testing.T) {
	if got := New().Classify(nil, now); got.Kind != pool.Transient {
		t.Errorf("nil response: %+v", got)
	}
}

func TestFirstOfNextMonth(t *testing.T) {
	for in, want := range map[time.Time]time.Time{
		time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC):                 time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC):                  time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 1, 0, 0, 0, time.FixedZone("x", 2*3600)): time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got := firstOfNextMonth(in); !got.Equal(want) {
			t.Errorf("firstOfNextMonth(%v) = %v, want %v", in, got, want)
		}
	}
	// Near the end of a month the cap does not apply.
	late := time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
	resp := adaptertest.Response(429, nil, adaptertest.Fixture(t, "spend_limit_undated.json"), messagesURL)
	april := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if got := New().Classify(resp, late); !got.Until.Equal(april) {
		t.Errorf("until %v", got.Until)
	}
	for f, status := range map[string]int{"spend_limit.json": 429, "workspace_limit.json": 400} {
		resp := adaptertest.Response(status, nil, adaptertest.Fixture(t, f), messagesURL)
		if got := New().Classify(resp, late); !got.Until.Equal(april) || got.Kind != pool.QuotaExhausted {
			t.Errorf("%s: %+v", f, got)
		}
	}
}
