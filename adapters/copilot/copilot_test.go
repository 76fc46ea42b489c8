package copilot

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestRegistered(t *testing.T) {
	adaptertest.Registered(t, Provider)
}

func TestPreset(t *testing.T) {
	if id, ok := Preset("github-copilot"); !ok || id != GitHubCopilotClientID {
		t.Errorf("Preset(github-copilot) = %q, %v", id, ok)
	}
	if _, ok := Preset("vscode"); ok {
		t.Error("unexpected preset")
	}
}

func TestNewConfigErrors(t *testing.T) {
	for name, opt := range map[string]Option{
		"empty client":       WithClientID(""),
		"http endpoints":     WithEndpoints("github.com", Endpoints{DeviceCodeURL: "http://github.example/a", AccessTokenURL: "https://x.example", CopilotTokenURL: "https://x.example"}),
		"integration id nl":  WithIntegrationID("a\nb"),
		"empty editor":       WithEditorVersion(""),
		"editor version ctl": WithEditorVersion("\x00"),
		"nil clock":          WithClock(nil),
	} {
		t.Run(name, func(t *testing.T) {
			a := newAdapter(opt)
			var ce *provider.ConfigError
			rec := copilotRecord("default", "a", "tid=1", "gho_x", nil)
			req, _ := http.NewRequest("GET", DefaultAPIURL+"/models", nil)
			if err := a.Authorize(req, rec); !errors.As(err, &ce) {
				t.Errorf("Authorize = %v, want *provider.ConfigError", err)
			}
			if _, err := a.Refresh(t.Context(), nil, rec); !errors.As(err, &ce) {
				t.Errorf("Refresh = %v, want *provider.ConfigError", err)
			}
			if _, err := a.Login(t.Context(), nil, records.ID{Label: "x"}, io.Discard); !errors.As(err, &ce) {
				t.Errorf("Login = %v, want *provider.ConfigError", err)
			}
		})
	}
}

func TestEndpointsFor(t *testing.T) {
	tests := []struct {
		namespace string
		want      Endpoints
		wantErr   bool
	}{
		{namespace: "default", want: Endpoints{
			DeviceCodeURL:   "https://github.com/login/device/code",
			AccessTokenURL:  "https://github.com/login/oauth/access_token",
			CopilotTokenURL: "https://api.github.com/copilot_internal/v2/token",
		}},
		{namespace: "octocorp.ghe.com", want: Endpoints{
			DeviceCodeURL:   "https://octocorp.ghe.com/login/device/code",
			AccessTokenURL:  "https://octocorp.ghe.com/login/oauth/access_token",
			CopilotTokenURL: "https://api.octocorp.ghe.com/copilot_internal/v2/token",
		}},
		{namespace: "ghe.corp:8443", want: Endpoints{
			DeviceCodeURL:   "https://ghe.corp:8443/login/device/code",
			AccessTokenURL:  "https://ghe.corp:8443/login/oauth/access_token",
			CopilotTokenURL: "https://api.ghe.corp:8443/copilot_internal/v2/token",
		}},
		{namespace: "Octo.GHE.com", wantErr: true},
		{namespace: "evil.example:0", wantErr: true},
		{namespace: "evil.example:99999", wantErr: true},
		{namespace: "evil.example:08", wantErr: true},
		{namespace: "-x.example", wantErr: true},
		{namespace: "a..example", wantErr: true},
		{namespace: "me@example.com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.namespace, func(t *testing.T) {
			host, err := HostFor(tt.namespace)
			var got Endpoints
			if err == nil {
				got, err = EndpointsFor(host)
			}
			if tt.wantErr {
				if !errors.Is(err, ErrBadHost) {
					t.Errorf("err = %v, want ErrBadHost", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func copilotRecord(namespace, label string, access, gh records.Secret, meta map[string]string) *records.Record {
	return &records.Record{
		Provider: Provider, Namespace: namespace, Label: label, Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: access, Refresh: gh, ClientID: GitHubCopilotClientID},
		Meta:  meta,
	}
}

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		rec        *records.Record
		wantHeader http.Header
		wantURL    string
		wantErr    error
	}{
		{
			name:       "defaults name authvault",
			rec:        copilotRecord("default", "a", "tid=abc;exp=1", "gho_secret", map[string]string{MetaAPIEndpoint: "https://api.individual.githubcopilot.com"}),
			wantHeader: http.Header{"Authorization": {"Bearer tid=abc;exp=1"}, "Copilot-Integration-Id": {"authvault"}, "Editor-Version": {provider.DefaultUserAgent()}, "Content-Type": {"application/json"}},
			wantURL:    "https://api.individual.githubcopilot.com/chat/completions",
		},
		{
			name:       "embedding application",
			opts:       []Option{WithIntegrationID("my-integration"), WithEditorVersion("myapp/2.0")},
			rec:        copilotRecord("octocorp.ghe.com", "a", "tid=ent", "ghu_x", map[string]string{MetaAPIEndpoint: "https://api.enterprise.githubcopilot.com"}),
			wantHeader: http.Header{"Authorization": {"Bearer tid=ent"}, "Copilot-Integration-Id": {"my-integration"}, "Editor-Version": {"myapp/2.0"}, "Content-Type": {"application/json"}},
			wantURL:    "https://api.enterprise.githubcopilot.com/chat/completions",
		},
		{
			name:       "no endpoint yet",
			rec:        copilotRecord("default", "a", "tid=abc", "gho_x", nil),
			wantHeader: http.Header{"Authorization": {"Bearer tid=abc"}, "Copilot-Integration-Id": {"authvault"}, "Editor-Version": {provider.DefaultUserAgent()}, "Content-Type": {"application/json"}},
			wantURL:    "https://api.githubcopilot.com/chat/completions",
		},
		{name: "no copilot token", rec: copilotRecord("default", "a", "", "gho_secret", nil), wantErr: provider.ErrNoCredential},
		{name: "plain http endpoint", rec: copilotRecord("default", "a", "tid=abc", "gho_secret", map[string]string{MetaAPIEndpoint: "http://evil.example"})},
		{name: "api key record", rec: &records.Record{Provider: Provider, Namespace: "default", Label: "a", Kind: records.KindAPI, API: &records.APIKey{Key: "k"}}},
		{name: "other provider", rec: &records.Record{Provider: "openai", Namespace: "default", Label: "a", Kind: records.KindOAuth, OAuth: &records.OAuth{Access: "x"}}, wantErr: provider.ErrWrongProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAdapter(tt.opts...)
			req, _ := http.NewRequest("POST", DefaultAPIURL+"/chat/completions", strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			err := a.Authorize(req, tt.rec)
			if tt.wantHeader == nil {
				if err == nil {
					t.Fatal("Authorize succeeded")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Authorize = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "gho_secret") {
					t.Errorf("error reveals the GitHub token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantHeader, req.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if req.URL.String() != tt.wantURL {
				t.Errorf("URL = %s, want %s", req.URL, tt.wantURL)
			}
		})
	}
}

func TestAccountsReachTheirOwnHosts(t *testing.T) {
	var hosts adaptertest.Hosts
	one, two := hosts.Server(t, "one"), hosts.Server(t, "two")
	a := newAdapter()
	for _, rec := range []*records.Record{
		copilotRecord("default", "A", "copilot-A", "gh-A", map[string]string{MetaAPIEndpoint: one.URL}),
		copilotRecord("octocorp.ghe.com", "B", "copilot-B", "gh-B", map[string]string{MetaAPIEndpoint: two.URL}),
	} {
		req, _ := http.NewRequest("POST", DefaultAPIURL+"/chat/completions", strings.NewReader("{}"))
		if err := a.Authorize(req, rec); err != nil {
			t.Fatal(err)
		}
		resp, err := one.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := map[string][]string{"one": {"/chat/completions Bearer copilot-A"}, "two": {"/chat/completions Bearer copilot-B"}}
	if diff := cmp.Diff(want, hosts.Seen()); diff != "" {
		t.Errorf("requests per host (-want +got):\n%s", diff)
	}
}

func TestClassifyFixtures(t *testing.T) {
	tests := []struct {
		file string
		want pool.Outcome
	}{
		{"rate_limited.http", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited", Until: testNow.Add(42 * time.Second)}},
		{"rate_limited_http_date.http", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited", Until: testNow.Add(time.Minute)}},
		{"quota_exceeded.http", pool.Outcome{Kind: pool.QuotaExhausted, Status: 402, Reason: "quota_exceeded"}},
		{"token_expired.http", pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "unauthorized"}},
		{"forbidden.http", pool.Outcome{Kind: pool.AuthRejected, Status: 403, Reason: "model_policy_disabled"}},
		{"model_not_supported.http", pool.Outcome{Kind: pool.Success, Status: 400}},
		{"unavailable.http", pool.Outcome{Kind: pool.Overloaded, Status: 503, Reason: "overloaded", Until: testNow.Add(time.Second)}},
		{"hostile_binary.http", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited"}},
		{"stream_ok.http", pool.Outcome{Kind: pool.Success, Status: 200}},
	}
	a := newAdapter()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			adaptertest.ClassifyFixture(t, a.Classify, tt.file, testNow, tt.want)
		})
	}
}

func TestClassifyHugeBody(t *testing.T) {
	body := bytes.Repeat([]byte(`{"error":{"code":"quota_exceeded"}}`), (10<<20)/35)
	resp := adaptertest.Response(429, adaptertest.Headers("Retry-After", "garbage"), body, DefaultAPIURL+"/chat/completions")
	want := pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited"}
	adaptertest.Classified(t, newAdapter().Classify, resp, body, testNow, want)
}
