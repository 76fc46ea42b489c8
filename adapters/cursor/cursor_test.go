package cursor

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const testKey = "crsr_0123456789abcdef"

func TestRegistered(t *testing.T) {
	adaptertest.Registered(t, Provider)
}

func apiRecord(key records.Secret) *records.Record {
	return &records.Record{Provider: Provider, Namespace: "default", Label: "me", Kind: records.KindAPI, API: &records.APIKey{Key: key}}
}

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		rec     *records.Record
		want    http.Header
		wantErr error
	}{
		{name: "bearer", rec: apiRecord(testKey), want: http.Header{"Authorization": {"Bearer " + testKey}}},
		{name: "basic", opts: []Option{WithBasicAuth()}, rec: apiRecord(testKey), want: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(testKey+":"))}}},
		{name: "empty key", rec: apiRecord(""), wantErr: provider.ErrNoCredential},
		{name: "key with newline", opts: []Option{WithBasicAuth()}, rec: apiRecord(testKey + "\r\nX: y"), wantErr: provider.ErrInvalidToken},
		{name: "oauth record", rec: &records.Record{Provider: Provider, Namespace: "default", Label: "me", Kind: records.KindOAuth, OAuth: &records.OAuth{Access: testKey}}, wantErr: ErrNotAPIKey},
		{name: "other provider", rec: &records.Record{Provider: "openai", Namespace: "default", Label: "me", Kind: records.KindAPI, API: &records.APIKey{Key: testKey}}, wantErr: provider.ErrWrongProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "https://api.cursor.com/v1/models", nil)
			err := newAdapter(tt.opts...).Authorize(req, tt.rec)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Authorize = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("error reveals the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, req.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if req.URL.String() != "https://api.cursor.com/v1/models" {
				t.Errorf("URL changed to %s", req.URL)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	if _, err := newAdapter().Refresh(context.Background(), nil, apiRecord(testKey)); !errors.Is(err, adapters.ErrNotRefreshable) {
		t.Errorf("Refresh = %v, want ErrNotRefreshable", err)
	}
}

func TestClassifyFixtures(t *testing.T) {
	tests := []struct {
		file string
		want pool.Outcome
	}{
		{"rate_limited.http", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited", Until: testNow.Add(time.Minute)}},
		{"unauthorized.http", pool.Outcome{Kind: pool.AuthRejected, Status: 401, Reason: "unauthorized"}},
		{"not_found.http", pool.Outcome{Kind: pool.Success, Status: 404}},
		{"server_error.http", pool.Outcome{Kind: pool.Transient, Status: 500, Reason: "server_error"}},
		{"not_modified.http", pool.Outcome{Kind: pool.Success, Status: 304}},
		{"hostile.http", pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "rate_limited", Until: testNow.Add(provider.MaxRetryAfter)}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			adaptertest.ClassifyFixture(t, newAdapter().Classify, tt.file, testNow, tt.want)
		})
	}
}

func TestNewRecord(t *testing.T) {
	rec, err := NewRecord(records.ID{Label: "ci"}, "  "+testKey+"\n")
	if err != nil {
		t.Fatal(err)
	}
	want := &records.Record{Provider: "cursor", Namespace: "default", Label: "ci", Kind: records.KindAPI, API: &records.APIKey{Key: testKey}}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	for name, tc := range map[string]struct {
		id  records.ID
		key records.Secret
	}{
		"no label":       {records.ID{}, testKey},
		"empty key":      {records.ID{Label: "x"}, " "},
		"other provider": {records.ID{Provider: "openai", Label: "x"}, testKey},
		"inner newline":  {records.ID{Label: "x"}, "a\nb"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewRecord(tc.id, tc.key); err == nil {
				t.Error("NewRecord succeeded")
			}
		})
	}
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		id         records.ID
		status     int
		body       string
		want       *records.Record
		wantAuth   string
		wantIs     error
		wantStatus int
	}{
		{
			name: "label from e-mail", id: records.ID{}, status: 200,
			body:     `{"apiKeyName":"CI key","createdAt":"2026-01-15T10:30:00Z","userEmail":"dev@example.com"}`,
			want:     &records.Record{Provider: "cursor", Namespace: "default", Label: "dev@example.com", Kind: records.KindAPI, API: &records.APIKey{Key: testKey}, Meta: map[string]string{"email": "dev@example.com", "key_name": "CI key"}},
			wantAuth: "Bearer " + testKey,
		},
		{
			name: "given label, basic auth", opts: []Option{WithBasicAuth()}, id: records.ID{Namespace: "work", Label: "team"}, status: 200,
			body:     `{"apiKeyName":"k\u0007","userEmail":"dev@example.com"}`,
			want:     &records.Record{Provider: "cursor", Namespace: "work", Label: "team", Kind: records.KindAPI, API: &records.APIKey{Key: testKey}, Meta: map[string]string{"email": "dev@example.com"}},
			wantAuth: "Basic " + base64.StdEncoding.EncodeToString([]byte(testKey+":")),
		},
		{name: "rejected", id: records.ID{Label: "me"}, status: 401, body: `{"error":"Unauthorized","message":"Invalid API key ` + testKey + `"}`, wantIs: ErrKeyRejected, wantStatus: 401},
		{name: "server error", id: records.ID{Label: "me"}, status: 500, body: `<html>`, wantStatus: 500},
		{name: "not json", id: records.ID{Label: "me"}, status: 200, body: `<html>`, wantStatus: 200},
		{name: "no label, no e-mail", id: records.ID{}, status: 200, body: `{}`, wantStatus: 200},
		{name: "oversized", id: records.ID{Label: "me"}, status: 200, body: `{"userEmail":"` + strings.Repeat("a", 100<<10) + `"}`, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotAuth, gotUA, gotPath string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAuth, gotUA, gotPath = r.Header.Get("Authorization"), r.Header.Get("User-Agent"), r.URL.Path
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			a := newAdapter(append([]Option{WithBaseURL(srv.URL)}, tt.opts...)...)
			rec, err := a.Login(context.Background(), srv.Client(), tt.id, testKey)
			if tt.want == nil {
				var le *provider.LoginError
				if !errors.As(err, &le) || le.Status != tt.wantStatus {
					t.Fatalf("Login = %v, want a provider.LoginError with status %d", err, tt.wantStatus)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("Login = %v, want %v", err, tt.wantIs)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("error reveals the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if gotAuth != tt.wantAuth {
				t.Error("wrong Authorization sent")
			}
			if gotPath != "/v1/me" || !strings.HasPrefix(gotUA, "authvault/") {
				t.Errorf("request = %s with User-Agent %q", gotPath, gotUA)
			}
		})
	}
}

func TestLoginRefusesBeforeSending(t *testing.T) {
	sent := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent = true }))
	defer srv.Close()
	a := newAdapter(WithBaseURL(srv.URL))
	for _, id := range []records.ID{{Label: "a/b"}, {Provider: "openai", Label: "x"}, {Provider: "openai"}} {
		if _, err := a.Login(context.Background(), srv.Client(), id, testKey); err == nil {
			t.Errorf("Login(%v) succeeded", id)
		}
	}
	if _, err := a.Login(context.Background(), srv.Client(), records.ID{}, "bad key"); !errors.Is(err, provider.ErrInvalidToken) {
		t.Errorf("Login with a bad key = %v", err)
	}
	if sent {
		t.Error("a request was sent for input that was already invalid")
	}
}

func TestNewConfigErrors(t *testing.T) {
	for name, opt := range map[string]Option{
		"http base url": WithBaseURL("http://api.cursor.example"),
		"not a url":     WithBaseURL("api.cursor.example"),
	} {
		t.Run(name, func(t *testing.T) {
			a := newAdapter(opt)
			var ce *provider.ConfigError
			req, _ := http.NewRequest("GET", DefaultBaseURL+"/v1/models", nil)
			if err := a.Authorize(req, apiRecord(testKey)); !errors.As(err, &ce) {
				t.Errorf("Authorize = %v, want *provider.ConfigError", err)
			}
			if _, err := a.Login(context.Background(), nil, records.ID{Label: "x"}, testKey); !errors.As(err, &ce) {
				t.Errorf("Login = %v, want *provider.ConfigError", err)
			}
		})
	}
	if newAdapter().userAgent != provider.DefaultUserAgent() {
		t.Error("the adapter's own requests do not say they come from authvault")
	}
}
