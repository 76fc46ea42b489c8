package transport

// A transport-level test per provider: a 429 in that provider's documented
// shape moves the request to the next account, and the account cools down
// for as long as the provider's signal says. For Copilot and Qwen, whose
// accounts each have their own API host, the retried request goes to the
// next account's host.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// providerEnv is a vault holding recs, a pool on their provider and a
// client over the provider's adapter, sharing one fake clock.
// origins are bound besides the adapter's.
func providerEnv(t *testing.T, a adapters.Adapter, clock *fakeClock, origins []string, recs ...*records.Record) (*http.Client, *pool.Pool) {
	t.Helper()
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	v, err := vault.Create(ctx, t.TempDir()+"/vault", []age.Recipient{id.Recipient()}, vault.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	for _, r := range recs {
		r.Provider, r.Namespace = a.Provider(), records.DefaultNamespace
		if _, err := v.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	p, err := pool.Open(ctx, v, pool.Key{Provider: a.Provider(), Namespace: records.DefaultNamespace}, pool.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &http.Client{Transport: New(p, a, WithOrigins(origins...))}, p
}

func apiKey(label, key string) *records.Record {
	return &records.Record{Label: label, Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(key)}}
}

// answer serves one canned 429 for the first credential and a 200 for the
// second; cred extracts the credential from a request.
type answer struct {
	status  int
	header  map[string]string
	body    string
	limited string // the credential that gets the 429
}

func fakeProvider(t *testing.T, cred func(*http.Request) string, a answer) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		c := cred(r)
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if c == a.limited {
			for k, v := range a.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(a.status)
			io.WriteString(w, a.body)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func checkRotation(t *testing.T, c *http.Client, p *pool.Pool, clock *fakeClock, url string, seen *[]string, want []string, cooldown time.Duration) {
	t.Helper()
	resp, err := c.Post(url, "application/json", strings.NewReader(`{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if strings.Join(*seen, ",") != strings.Join(want, ",") {
		t.Fatalf("upstream saw %v, want %v", *seen, want)
	}
	accts, err := p.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := accts[0]
	if first.Availability != pool.Cooling || !first.Until.Equal(clock.Now().Add(cooldown)) {
		t.Fatalf("first account: %v until %v, want cooling until now+%v", first.Availability, first.Until.Sub(clock.Now()), cooldown)
	}
}

func TestProviderAnthropic(t *testing.T) {
	clock := newFakeClock()
	reset := clock.Now().Add(45 * time.Second).Format(time.RFC3339)
	srv, seen := fakeProvider(t, func(r *http.Request) string { return r.Header.Get("X-Api-Key") }, answer{
		status: 429, limited: "sk-ant-one",
		header: map[string]string{"Retry-After": "45", "Anthropic-Ratelimit-Requests-Remaining": "0", "Anthropic-Ratelimit-Requests-Reset": reset},
		body:   `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`,
	})
	c, p := providerEnv(t, anthropic.New(), clock, []string{srv.URL}, apiKey("one", "sk-ant-one"), apiKey("two", "sk-ant-two"))
	checkRotation(t, c, p, clock, srv.URL+"/v1/messages", seen, []string{"sk-ant-one", "sk-ant-two"}, 45*time.Second)
}

func TestProviderOpenAI(t *testing.T) {
	clock := newFakeClock()
	srv, seen := fakeProvider(t, func(r *http.Request) string { return r.Header.Get("Authorization") }, answer{
		status: 429, limited: "Bearer sk-one",
		header: map[string]string{"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "6m0s", "X-Ratelimit-Reset-Tokens": "12ms"},
		body:   `{"error":{"message":"Rate limit reached for gpt-4o on requests per min (RPM): Limit 500, Used 500, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
	})
	c, p := providerEnv(t, openai.New(), clock, []string{srv.URL}, apiKey("one", "sk-one"), apiKey("two", "sk-two"))
	checkRotation(t, c, p, clock, srv.URL+"/v1/chat/completions", seen, []string{"Bearer sk-one", "Bearer sk-two"}, 6*time.Minute)
}

func TestProviderGoogle(t *testing.T) {
	clock := newFakeClock()
	srv, seen := fakeProvider(t, func(r *http.Request) string { return r.Header.Get("X-Goog-Api-Key") }, answer{
		status: 429, limited: "AIza-one",
		body: `{"error":{"code":429,"message":"You exceeded your current quota. Please retry in 17s.","status":"RESOURCE_EXHAUSTED","details":[` +
			`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","domain":"googleapis.com","metadata":{"quota_limit_value":"10"}},` +
			`{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}}`,
	})
	c, p := providerEnv(t, google.New(), clock, []string{srv.URL}, apiKey("one", "AIza-one"), apiKey("two", "AIza-two"))
	checkRotation(t, c, p, clock, srv.URL+"/v1beta/models/gemini-2.5-flash:generateContent", seen, []string{"AIza-one", "AIza-two"}, 17*time.Second)
}

// hostedAccounts runs the per-account host check: two upstreams, the first
// answering 429 with Retry-After retry; each account (made by acct with
// its upstream's base URL) must be sent to its own host, and the first must
// cool down for retry seconds.
func hostedAccounts(t *testing.T, a adapters.Adapter, clock *fakeClock, url string, retry int,
	acct func(label, base string) *records.Record, seen func(*http.Request) string) []string {
	t.Helper()
	var got []string
	var mu sync.Mutex
	handler := func(limited bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			mu.Lock()
			got = append(got, r.Host+" "+seen(r))
			mu.Unlock()
			if limited {
				w.Header().Set("Retry-After", fmt.Sprint(retry))
				w.WriteHeader(429)
				io.WriteString(w, `{"error":{"message":"Requests rate limit exceeded","type":"rate_limit_error","code":"rate_limit_exceeded"}}`)
				return
			}
			io.WriteString(w, `{"ok":true}`)
		}
	}
	one := httptest.NewServer(handler(true))
	defer one.Close()
	two := httptest.NewServer(handler(false))
	defer two.Close()
	c, p := providerEnv(t, a, clock, nil, acct("one", one.URL), acct("two", two.URL))
	req, err := http.NewRequest("POST", url, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	host := req.Host
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.URL.String() != url || req.Host != host {
		t.Errorf("the caller's request now says %s (Host %q): an account's host was written into it", req.URL, req.Host)
	}
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != 200 || len(got) != 2 ||
		!strings.HasPrefix(got[0], strings.TrimPrefix(one.URL, "http://")+" ") ||
		!strings.HasPrefix(got[1], strings.TrimPrefix(two.URL, "http://")+" ") {
		t.Fatalf("status %d, requests %v: want account one on %s, then account two on %s", resp.StatusCode, got, one.URL, two.URL)
	}
	accts, _ := p.Accounts(context.Background())
	if want := clock.Now().Add(time.Duration(retry) * time.Second); !accts[0].Until.Equal(want) {
		t.Fatalf("account one cools until now+%v, want now+%ds", accts[0].Until.Sub(clock.Now()), retry)
	}
	return got
}

// Copilot accounts each have their own API endpoint (from the token
// exchange): the request rotated to account two goes to account two's host.
func TestProviderCopilotPerAccountHosts(t *testing.T) {
	clock := newFakeClock()
	hostedAccounts(t, copilot.New(copilot.WithClock(clock.Now)), clock, copilot.DefaultAPIURL+"/chat/completions", 20,
		func(label, base string) *records.Record {
			return &records.Record{Label: label, Kind: records.KindOAuth, OAuth: &records.OAuth{
				Access: records.Secret("cop-" + label), Refresh: records.Secret("gho_github_" + label), Expiry: clock.Now().Add(20 * time.Minute)},
				Meta: map[string]string{copilot.MetaAPIEndpoint: base}}
		},
		func(r *http.Request) string { return r.Header.Get("Authorization") })
}

// Qwen accounts each have their resource_url: the same holds, path included.
func TestProviderQwenPerAccountHosts(t *testing.T) {
	clock := newFakeClock()
	got := hostedAccounts(t, qwen.New(qwen.WithClock(clock.Now)), clock, qwen.DefaultBaseURL+"/chat/completions", 9,
		func(label, base string) *records.Record {
			return &records.Record{Label: label, Kind: records.KindOAuth, OAuth: &records.OAuth{
				Access: records.Secret("qwen-" + label), Refresh: records.Secret("qr-" + label), Expiry: clock.Now().Add(time.Hour)},
				Meta: map[string]string{qwen.MetaResourceURL: base + "/v1"}}
		},
		func(r *http.Request) string { return r.URL.Path + " " + r.Header.Get("Authorization") })
	for i, label := range []string{"one", "two"} {
		if !strings.HasSuffix(got[i], " /v1/chat/completions Bearer qwen-"+label) {
			t.Errorf("request %d: %q, want the account's /v1 base and token", i, got[i])
		}
	}
}
