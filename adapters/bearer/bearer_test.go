package bearer

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name       string
		provider   string
		opts       []Option
		wantID     bool // want records.ErrInvalidID
		wantConfig bool // want *provider.ConfigError
	}{
		{name: "ok", provider: "together", opts: []Option{WithBaseURL("https://api.together.xyz/v1/")}},
		{name: "bad provider", provider: "Bad/Provider", wantID: true},
		{name: "bad base url", provider: "p", opts: []Option{WithBaseURL("ftp://x")}, wantConfig: true},
		{name: "http token url", provider: "p", opts: []Option{WithTokenURL("http://auth.example.com/token")}, wantConfig: true},
		{name: "empty client id", provider: "p", opts: []Option{WithClientID(" ")}, wantConfig: true},
		{name: "authorization header", provider: "p", opts: []Option{WithHeader("authorization", "x")}, wantConfig: true},
		{name: "header with newline", provider: "p", opts: []Option{WithHeader("X-A", "a\r\nb")}, wantConfig: true},
		{name: "nil clock", provider: "p", opts: []Option{WithClock(nil)}, wantConfig: true},
		{name: "empty meta key", provider: "p", opts: []Option{WithAccountBaseURL("", nil)}, wantConfig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.provider, tt.opts...)
			var ce *provider.ConfigError
			switch {
			case tt.wantID:
				if !errors.Is(err, records.ErrInvalidID) {
					t.Errorf("New = %v, want ErrInvalidID", err)
				}
			case tt.wantConfig:
				if !errors.As(err, &ce) {
					t.Errorf("New = %v, want *provider.ConfigError", err)
				}
			case err != nil:
				t.Fatalf("New: %v", err)
			case a.Provider() != tt.provider:
				t.Errorf("Provider = %q", a.Provider())
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	a, err := New("custom",
		WithBaseURL("https://api.example.com/v1"),
		WithHeader("X-Provider-Version", "2024-01-01"),
	)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(kind records.Kind, tok records.Secret, meta map[string]string) *records.Record {
		r := &records.Record{Provider: "custom", Namespace: "default", Label: "a", Kind: kind, Meta: meta}
		switch kind {
		case records.KindOAuth:
			r.OAuth = &records.OAuth{Access: tok, Refresh: "rt-secret"}
		case records.KindAPI:
			r.API = &records.APIKey{Key: tok}
		case records.KindWellKnown:
			r.WellKnown = &records.WellKnown{Key: "https://example.com", Token: tok}
		}
		return r
	}
	tests := []struct {
		name       string
		rec        *records.Record
		wantHeader http.Header
		wantURL    string
		wantHost   string
		wantErr    error
	}{
		{
			name:       "oauth access token",
			rec:        rec(records.KindOAuth, "at-123", nil),
			wantHeader: http.Header{"Authorization": {"Bearer at-123"}, "X-Provider-Version": {"2024-01-01"}, "User-Agent": {"sdk/1"}},
			wantURL:    "https://api.example.com/v1/chat/completions?stream=true",
			wantHost:   "api.example.com",
		},
		{
			name:       "api key",
			rec:        rec(records.KindAPI, "sk-key", nil),
			wantHeader: http.Header{"Authorization": {"Bearer sk-key"}, "X-Provider-Version": {"2024-01-01"}, "User-Agent": {"sdk/1"}},
			wantURL:    "https://api.example.com/v1/chat/completions?stream=true",
			wantHost:   "api.example.com",
		},
		{
			name:       "well-known token",
			rec:        rec(records.KindWellKnown, "wk-tok", nil),
			wantHeader: http.Header{"Authorization": {"Bearer wk-tok"}, "X-Provider-Version": {"2024-01-01"}, "User-Agent": {"sdk/1"}},
			wantURL:    "https://api.example.com/v1/chat/completions?stream=true",
			wantHost:   "api.example.com",
		},
		{
			name:       "per-account base url",
			rec:        rec(records.KindAPI, "sk-key", map[string]string{"base_url": "http://10.0.0.5:8000/openai/v1/"}),
			wantHeader: http.Header{"Authorization": {"Bearer sk-key"}, "X-Provider-Version": {"2024-01-01"}, "User-Agent": {"sdk/1"}},
			wantURL:    "http://10.0.0.5:8000/openai/v1/chat/completions?stream=true",
			wantHost:   "10.0.0.5:8000",
		},
		{name: "empty token", rec: rec(records.KindAPI, "", nil), wantErr: provider.ErrNoCredential},
		{name: "token with newline", rec: rec(records.KindAPI, "sk\r\nX-Evil: 1", nil), wantErr: provider.ErrInvalidToken},
		{name: "token with space", rec: rec(records.KindAPI, "sk key", nil), wantErr: provider.ErrInvalidToken},
		{name: "token with tab", rec: rec(records.KindAPI, "sk\tkey", nil), wantErr: provider.ErrInvalidToken},
		{name: "token with DEL", rec: rec(records.KindAPI, "sk\x7fkey", nil), wantErr: provider.ErrInvalidToken},
		{name: "token with NUL", rec: rec(records.KindAPI, "sk\x00key", nil), wantErr: provider.ErrInvalidToken},
		{name: "other provider", rec: &records.Record{Provider: "openai", Namespace: "default", Label: "a", Kind: records.KindAPI, API: &records.APIKey{Key: "k"}}, wantErr: provider.ErrWrongProvider},
		{name: "bad base url", rec: rec(records.KindAPI, "sk-key", map[string]string{"base_url": "https://user:pw@evil.example/v1"}), wantErr: provider.ErrInvalidBaseURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", "https://api.example.com/v1/chat/completions?stream=true", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("User-Agent", "sdk/1")
			err = a.Authorize(req, tt.rec)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Authorize = %v, want %v", err, tt.wantErr)
				}
				adaptertest.NoSecret(t, err, "sk-key", "pw", "sk\r\nX-Evil")
				return
			}
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if diff := cmp.Diff(tt.wantHeader, req.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if got := req.URL.String(); got != tt.wantURL {
				t.Errorf("URL = %s, want %s", got, tt.wantURL)
			}
			if req.Host != tt.wantHost {
				t.Errorf("Host = %q, want %q", req.Host, tt.wantHost)
			}
		})
	}
}

func TestAuthorizePerAccountHosts(t *testing.T) {
	a, err := New("custom", WithBaseURL("https://api.example.com/v1"))
	if err != nil {
		t.Fatal(err)
	}
	accounts := map[string]*records.Record{
		"https://host-one.example/v1/models":   {Provider: "custom", Namespace: "default", Label: "A", Kind: records.KindAPI, API: &records.APIKey{Key: "key-a"}, Meta: map[string]string{"base_url": "https://host-one.example/v1"}},
		"https://host-two.example/x/v1/models": {Provider: "custom", Namespace: "default", Label: "B", Kind: records.KindAPI, API: &records.APIKey{Key: "key-b"}, Meta: map[string]string{"base_url": "https://host-two.example/x/v1"}},
	}
	for want, rec := range accounts {
		req, _ := http.NewRequest("GET", "https://api.example.com/v1/models", nil)
		if err := a.Authorize(req, rec); err != nil {
			t.Fatal(err)
		}
		if req.URL.String() != want {
			t.Errorf("%s: URL = %s, want %s", rec.Label, req.URL, want)
		}
		if got := req.Header.Get("Authorization"); got != "Bearer "+rec.API.Key.Reveal() {
			t.Errorf("%s: wrong credential sent", rec.Label)
		}
	}
}
