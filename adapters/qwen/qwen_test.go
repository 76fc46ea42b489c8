package qwen

import (
	"bytes"
	"context"
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

func TestNewConfigErrors(t *testing.T) {
	for name, opt := range map[string]Option{
		"empty client":   WithClientID(""),
		"http token url": WithTokenURL("http://chat.example/token"),
		"bad device url": WithDeviceCodeURL("not a url"),
		"nil clock":      WithClock(nil),
	} {
		t.Run(name, func(t *testing.T) {
			a := newAdapter(opt)
			var ce *provider.ConfigError
			rec := accountRecord("a", "t", nil)
			req, _ := http.NewRequest("GET", DefaultBaseURL+"/models", nil)
			if err := a.Authorize(req, rec); !errors.As(err, &ce) {
				t.Errorf("Authorize = %v, want *provider.ConfigError", err)
			}
			if _, err := a.Refresh(context.Background(), nil, rec); !errors.As(err, &ce) {
				t.Errorf("Refresh = %v, want *provider.ConfigError", err)
			}
			if _, err := a.Login(context.Background(), nil, records.ID{Label: "x"}, io.Discard); !errors.As(err, &ce) {
				t.Errorf("Login = %v, want *provider.ConfigError", err)
			}
		})
	}
}

func TestPreset(t *testing.T) {
	id, ok := Preset("qwen-code")
	if !ok || id != QwenCodeClientID {
		t.Errorf("Preset(qwen-code) = %q, %v", id, ok)
	}
	if _, ok := Preset("claude-code"); ok {
		t.Error("Preset knows a client it should not")
	}
}

func accountRecord(label string, access records.Secret, meta map[string]string) *records.Record {
	return &records.Record{
		Provider: Provider, Namespace: records.DefaultNamespace, Label: label, Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: access, Refresh: "rt-" + records.Secret(label), ClientID: QwenCodeClientID},
		Meta:  meta,
	}
}

func TestResourceBaseURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "portal.qwen.ai", want: "https://portal.qwen.ai/v1"},
		{in: "https://portal.qwen.ai", want: "https://portal.qwen.ai/v1"},
		{in: "https://portal.qwen.ai/v1/", want: "https://portal.qwen.ai/v1"},
		{in: "https://dashscope.aliyuncs.com/compatible-mode/v1", want: "https://dashscope.aliyuncs.com/compatible-mode/v1"},
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/v1"},
		{in: "http://evil.example", wantErr: true},
		{in: "", wantErr: true},
		{in: "user:pw@host.example", wantErr: true},
		{in: "host.example/v1?x=1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := resourceBaseURL(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ResourceBaseURL = %s, want error", u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tt.want {
				t.Errorf("ResourceBaseURL = %s, want %s", u, tt.want)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	a := newAdapter()
	tests := []struct {
		name    string
		rec     *records.Record
		wantURL string
		wantErr bool
	}{
		{"no resource url", accountRecord("a", "tok-a", nil), "https://portal.qwen.ai/v1/chat/completions", false},
		{"host only", accountRecord("a", "tok-a", map[string]string{MetaResourceURL: "portal.qwen.ai"}), "https://portal.qwen.ai/v1/chat/completions", false},
		{"other region", accountRecord("a", "tok-a", map[string]string{MetaResourceURL: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"}), "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions", false},
		{"plain http refused", accountRecord("a", "tok-a", map[string]string{MetaResourceURL: "http://evil.example"}), "", true},
		{"no access token", accountRecord("a", "", nil), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", DefaultBaseURL+"/chat/completions", nil)
			err := a.Authorize(req, tt.rec)
			if tt.wantErr {
				if err == nil {
					t.Fatal("Authorize succeeded")
				}
				if strings.Contains(err.Error(), "tok-a") {
					t.Errorf("error reveals the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := http.Header{"Authorization": {"Bearer tok-a"}}
			if diff := cmp.Diff(want, req.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if req.URL.String() != tt.wantURL {
				t.Errorf("URL = %s, want %s", req.URL, tt.wantURL)
			}
		})
	}
}

// TestAccountsReachTheirOwnHosts sends one request per account through a
// real client: each host must see only its own account's token.
func TestAccountsReachTheirOwnHosts(t *testing.T) {
	var hosts adaptertest.Hosts
	one, two := hosts.Server(t, "one"), hosts.Server(t, "two")
	a := newAdapter()
	accounts := []*records.Record{
		accountRecord("A", "token-A", map[string]string{MetaResourceURL: one.URL}),
		accountRecord("B", "token-B", map[string]string{MetaResourceURL: two.URL + "/compatible-mode/v1"}),
	}
	for _, rec := range accounts {
		req, _ := http.NewRequest("POST", DefaultBaseURL+"/chat/completions", strings.NewReader("{}"))
		if err := a.Authorize(req, rec); err != nil {
			t.Fatal(err)
		}
		resp, err := one.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := map[string][]string{
		"one": {"/v1/chat/completions Bearer token-A"},
		"two": {"/compatible-mode/v1/chat/completions Bearer token-B"},
	}
	if diff := cmp.Diff(want, hosts.Seen()); diff != "" {
		t.Errorf("requests per host (-want +got):\n%s", diff)
	}
}

func TestClassifyFixtures(t *testing.T) {
	tests := []struct {
		file string
		want pool.Outcome
	}{
		{"free_quota_exceeded.http", pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "insufficient_quota"}},
		{"rate_quota_retry_after.http", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "Throttling.RateQuota", Until: testNow.Add(30 * time.Second)}},
		{"allocation_quota.http", pool.Outcome{Kind: pool.QuotaExhausted, Status: 429, Reason: "Throttling.AllocationQuota"}},
		{"arrearage.http", pool.Outcome{Kind: pool.QuotaExhausted, Status: 400, Reason: "Arrearage"}},
		{"invalid_token.http", pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "invalid_api_key"}},
		{"stream_ok.http", pool.Outcome{Kind: pool.Success, Status: 200}},
		{"bad_gateway.http", pool.Outcome{Kind: pool.Transient, Status: 502, Reason: "server_error"}},
		{"hostile_truncated.http", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited"}},
	}
	a := newAdapter()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			adaptertest.ClassifyFixture(t, a.Classify, tt.file, testNow, tt.want)
		})
	}
}

func TestClassifyHugeBody(t *testing.T) {
	body := append([]byte(`{"error":{"code":"Throttling.AllocationQuota","message":"`), bytes.Repeat([]byte("q"), 10<<20)...)
	resp := adaptertest.Response(429, adaptertest.Headers("Retry-After", "7"), body, DefaultBaseURL+"/chat/completions")
	want := pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited", Until: testNow.Add(7 * time.Second)}
	adaptertest.Classified(t, newAdapter().Classify, resp, body, testNow, want)
}
