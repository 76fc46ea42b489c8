package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// tokenServer answers token requests with a canned status, content type
// and body, and records the form it received.
type tokenServer struct {
	*httptest.Server
	mu     sync.Mutex
	form   url.Values
	header http.Header
}

func newTokenServer(t *testing.T, status int, contentType, body string) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("token server: %v", err)
		}
		ts.mu.Lock()
		ts.form, ts.header = r.PostForm, r.Header.Clone()
		ts.mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts
}

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const (
	oldAccess  = "at-old-0123456789"
	oldRefresh = "rt-old-0123456789"
	newAccess  = "at-new-9876543210"
	newRefresh = "rt-new-9876543210"
)

func oauthRecord(tokenURL string) *records.Record {
	return &records.Record{
		Provider: "custom", Namespace: "default", Label: "me", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: oldAccess, Refresh: oldRefresh, ClientID: "client-1", TokenURL: tokenURL, Expiry: testNow.Add(-time.Minute)},
	}
}

func TestRefreshSuccess(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		opts     []Option
		want     *records.OAuth
		wantMeta map[string]string
	}{
		{
			name:     "rotated",
			body:     `{"access_token":"` + newAccess + `","refresh_token":"` + newRefresh + `","token_type":"Bearer","expires_in":3600,"scope":"a b","resource_url":"portal.example"}`,
			opts:     []Option{WithTokenMeta("resource_url")},
			want:     &records.OAuth{Access: newAccess, Refresh: newRefresh, ClientID: "client-1", Expiry: testNow.Add(time.Hour), Scopes: []string{"a", "b"}},
			wantMeta: map[string]string{"resource_url": "portal.example"},
		},
		{
			name: "refresh token kept",
			body: `{"access_token":"` + newAccess + `","token_type":"bearer","expires_in":"60","id_token":"idt"}`,
			want: &records.OAuth{Access: newAccess, Refresh: oldRefresh, ClientID: "client-1", Expiry: testNow.Add(time.Minute), IDToken: "idt"},
		},
		{
			name: "no expiry",
			body: `{"access_token":"` + newAccess + `"}`,
			want: &records.OAuth{Access: newAccess, Refresh: oldRefresh, ClientID: "client-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, 200, "application/json", tt.body)
			a, err := New("custom", append([]Option{WithClock(func() time.Time { return testNow })}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			rec := oauthRecord(ts.URL + "/token")
			got, err := a.Refresh(context.Background(), ts.Client(), rec)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			tt.want.TokenURL = ts.URL + "/token"
			if diff := cmp.Diff(tt.want, got.OAuth); diff != "" {
				t.Errorf("OAuth (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMeta, got.Meta); diff != "" {
				t.Errorf("Meta (-want +got):\n%s", diff)
			}
			if rec.OAuth.Access != oldAccess {
				t.Error("Refresh modified its input record")
			}
			wantForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {oldRefresh}, "client_id": {"client-1"}}
			if diff := cmp.Diff(wantForm, ts.form); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
			if ua := ts.header.Get("User-Agent"); !strings.HasPrefix(ua, "authvault/") {
				t.Errorf("User-Agent = %q", ua)
			}
		})
	}
}

// TestRefreshKeepsRotatedTokenWhateverTheAccessToken checks that a rotated
// refresh token is never dropped, even when the access token beside it
// cannot be sent.
func TestRefreshKeepsRotatedTokenWhateverTheAccessToken(t *testing.T) {
	ts := newTokenServer(t, 200, "application/json", `{"access_token":"a\nb","refresh_token":"`+newRefresh+`"}`)
	a, err := New("custom")
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Refresh(context.Background(), ts.Client(), oauthRecord(ts.URL))
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if got.OAuth.Refresh != newRefresh {
		t.Error("rotated refresh token dropped")
	}
	req, _ := http.NewRequest("GET", "https://api.example.com/v1/models", nil)
	if err := a.Authorize(req, got); !errors.Is(err, provider.ErrInvalidToken) {
		t.Errorf("Authorize = %v, want provider.ErrInvalidToken", err)
	}
}

func TestRefreshConfidentialClient(t *testing.T) {
	ts := newTokenServer(t, 200, "application/json", `{"access_token":"`+newAccess+`"}`)
	a, err := New("custom", WithClientSecret("shh-secret"), WithTokenURL(ts.URL), WithClientID("cid"))
	if err != nil {
		t.Fatal(err)
	}
	rec := oauthRecord("")
	rec.OAuth.ClientID = ""
	if _, err := a.Refresh(context.Background(), ts.Client(), rec); err != nil {
		t.Fatal(err)
	}
	user, pass, ok := (&http.Request{Header: ts.header}).BasicAuth()
	if !ok || user != "cid" || pass != "shh-secret" {
		t.Errorf("basic auth = %q, %q, %v", user, pass, ok)
	}
}

// A custom provider's record carries its client's secret: any process
// refreshes it with a plain adapter, no option.
func TestRefreshRecordClientSecret(t *testing.T) {
	ts := newTokenServer(t, 200, "application/json", `{"access_token":"`+newAccess+`"}`)
	a, err := New("custom")
	if err != nil {
		t.Fatal(err)
	}
	rec := oauthRecord("")
	rec.OAuth.ClientID, rec.OAuth.TokenURL, rec.OAuth.ClientSecret = "rec-client", ts.URL, "rec-secret"
	if _, err := a.Refresh(context.Background(), ts.Client(), rec); err != nil {
		t.Fatal(err)
	}
	user, pass, ok := (&http.Request{Header: ts.header}).BasicAuth()
	if !ok || user != "rec-client" || pass != "rec-secret" {
		t.Errorf("basic auth = %q, %q, %v", user, pass, ok)
	}
}

func TestRefreshFailures(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		wantStatus int
		wantCode   string
		permanent  bool
		wantErrIs  error
	}{
		{"invalid_grant", 400, "application/json", `{"error":"invalid_grant","error_description":"refresh token ` + oldRefresh + ` is revoked"}`, 400, "invalid_grant", true, nil},
		{"invalid_client 401", 401, "application/json", `{"error":"invalid_client"}`, 401, "invalid_client", true, nil},
		{"reused", 400, "application/json", `{"error":"refresh_token_reused"}`, 400, "refresh_token_reused", true, nil},
		{"400 no body", 400, "text/plain", ``, 400, "", true, nil},
		{"form encoded error", 400, "application/x-www-form-urlencoded", `error=invalid_grant`, 400, "invalid_grant", true, nil},
		{"hostile code", 400, "application/json", `{"error":"` + oldRefresh + ` <script>"}`, 400, "invalid_error_code", true, nil},
		{"500", 500, "text/html", `<html>` + oldRefresh + `</html>`, 500, "", false, nil},
		{"503 temporarily", 503, "application/json", `{"error":"temporarily_unavailable"}`, 503, "temporarily_unavailable", false, nil},
		{"429", 429, "application/json", `{"error":"slow_down"}`, 429, "slow_down", false, nil},
		{"200 with error", 200, "application/json", `{"error":"invalid_grant"}`, 200, "invalid_grant", true, nil},
		{"malformed json", 200, "application/json", `{"access_token":`, 0, "", false, provider.ErrMalformedResponse},
		{"missing access token", 200, "application/json", `{"refresh_token":"` + newRefresh + `"}`, 0, "", false, provider.ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, tt.status, tt.ctype, tt.body)
			a, err := New("custom")
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Refresh(context.Background(), ts.Client(), oauthRecord(ts.URL))
			var re *adapters.RefreshError
			if !errors.As(err, &re) {
				t.Fatalf("Refresh = %v, want *adapters.RefreshError", err)
			}
			got := fmt.Sprintf("%d %q %v", re.Status, re.Code, re.Permanent)
			want := fmt.Sprintf("%d %q %v", tt.wantStatus, tt.wantCode, tt.permanent)
			if got != want {
				t.Errorf("RefreshError status/code/permanent = %s, want %s (%v)", got, want, err)
			}
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("Refresh = %v, want %v", err, tt.wantErrIs)
			}
			if re.Provider != "custom" {
				t.Errorf("Provider = %q", re.Provider)
			}
			adaptertest.NoSecret(t, err, oldRefresh, oldAccess, newRefresh, newAccess, "<script>")
		})
	}
}

func TestRefreshNetworkAndContext(t *testing.T) {
	closedURL := adaptertest.ClosedURL(t)
	a, err := New("custom")
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Refresh(context.Background(), &http.Client{}, oauthRecord(closedURL))
	var re *adapters.RefreshError
	var ue *url.Error
	if !errors.As(err, &re) || re.Permanent || re.Status != 0 || !errors.As(err, &ue) {
		t.Errorf("Refresh against a closed server = %v", err)
	}
	adaptertest.NoSecret(t, err, oldRefresh, oldAccess)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.Refresh(ctx, &http.Client{}, oauthRecord(closedURL))
	if !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.Permanent {
		t.Errorf("Refresh with a cancelled context = %v", err)
	}
}

func TestRefreshNotRefreshable(t *testing.T) {
	a, err := New("custom")
	if err != nil {
		t.Fatal(err)
	}
	apiRec := &records.Record{Provider: "custom", Namespace: "default", Label: "k", Kind: records.KindAPI, API: &records.APIKey{Key: "sk"}}
	noRefresh := oauthRecord("https://auth.example/token")
	noRefresh.OAuth.Refresh = ""
	noURL := oauthRecord("")
	noClient := oauthRecord("https://auth.example/token")
	noClient.OAuth.ClientID = ""
	for name, rec := range map[string]*records.Record{"api key": apiRec, "no refresh token": noRefresh, "no token url": noURL, "no client": noClient} {
		t.Run(name, func(t *testing.T) {
			_, err := a.Refresh(context.Background(), nil, rec)
			if !errors.Is(err, adapters.ErrNotRefreshable) {
				t.Errorf("Refresh = %v, want ErrNotRefreshable", err)
			}
		})
	}
	plain := oauthRecord("http://auth.example/token")
	if _, err := a.Refresh(context.Background(), nil, plain); err == nil {
		t.Error("Refresh sent a refresh token over plain http to a non-loopback host")
	}
}
