package google

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/records"
)

func TestRefresh(t *testing.T) {
	id := idToken("new@example.com")
	cases := []struct {
		name       string
		rec        func(*records.Record)
		set        func(*adapter)
		reply      map[string]any
		wantSecret string
		wantClient string
		want       func(*records.Record)
	}{
		{"secret from meta, no rotation", nil, nil,
			map[string]any{"access_token": newAccess, "expires_in": 3599, "token_type": "Bearer", "scope": "https://www.googleapis.com/auth/cloud-platform openid", "id_token": id},
			testSecret, "client-1.apps.googleusercontent.com",
			func(r *records.Record) {
				r.OAuth.Access, r.OAuth.Expiry, r.OAuth.IDToken = newAccess, now.Add(3599*time.Second), records.Secret(id)
				r.OAuth.Scopes = []string{"https://www.googleapis.com/auth/cloud-platform", "openid"}
				r.Meta[MetaEmail] = "new@example.com"
			}},
		{"rotated refresh token kept", nil, nil,
			map[string]any{"access_token": newAccess, "refresh_token": "1//new-refresh", "expires_in": 60},
			testSecret, "client-1.apps.googleusercontent.com",
			func(r *records.Record) {
				r.OAuth.Access, r.OAuth.Refresh, r.OAuth.Expiry = newAccess, "1//new-refresh", now.Add(time.Minute)
			}},
		{"preset secret for an imported gemini-cli record", func(r *records.Record) {
			r.OAuth.ClientID = PresetGeminiCLI.ID
			r.Meta = nil
		}, nil, map[string]any{"access_token": newAccess}, PresetGeminiCLI.Secret, PresetGeminiCLI.ID,
			func(r *records.Record) { r.OAuth.Access = newAccess }},
		{"client from the adapter", func(r *records.Record) {
			r.OAuth.ClientID = ""
			r.Meta = nil
		}, func(a *adapter) { a.clientID, a.clientSecret = "own.apps.googleusercontent.com", "own-secret" }, map[string]any{"access_token": newAccess}, "own-secret", "own.apps.googleusercontent.com",
			func(r *records.Record) {
				r.OAuth.Access, r.OAuth.ClientID = newAccess, "own.apps.googleusercontent.com"
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := oauthtest.New(t)
			srv.Token = func(map[string]string) oauthtest.Reply { return oauthtest.Reply{Status: 200, Body: c.reply} }
			rec := oauthRecord()
			if c.rec != nil {
				c.rec(rec)
			}
			before := rec.Clone()
			a := with(func(a *adapter) { a.endpoint.TokenURL, a.now = srv.TokenURL(), func() time.Time { return now } })
			if c.set != nil {
				c.set(a)
			}
			got, err := a.Refresh(context.Background(), srv.Client(), rec)
			if err != nil {
				t.Fatal(err)
			}
			want := before.Clone()
			c.want(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, rec); diff != "" {
				t.Errorf("input modified:\n%s", diff)
			}
			wantReq := []map[string]string{{"grant_type": "refresh_token", "refresh_token": testRefresh, "client_id": c.wantClient, "client_secret": c.wantSecret}}
			if diff := cmp.Diff(wantReq, srv.TokenRequests()); diff != "" {
				t.Errorf("token requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefreshFailures(t *testing.T) {
	cases := []struct {
		name  string
		reply oauthtest.Reply
		want  adapters.RefreshError
	}{
		{"invalid_grant", oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}},
			adapters.RefreshError{Provider: ProviderID, Status: 400, Code: "invalid_grant", Permanent: true}},
		{"invalid_client", oauthtest.Reply{Status: 401, Body: map[string]string{"error": "invalid_client", "error_description": "The OAuth client was not found."}},
			adapters.RefreshError{Provider: ProviderID, Status: 401, Code: "invalid_client", Permanent: true}},
		{"echoed secrets", oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_request", "error_description": "bad " + testRefresh + " / " + testSecret}},
			adapters.RefreshError{Provider: ProviderID, Status: 400, Code: "invalid_request"}},
		{"opaque 500 echoing the token", oauthtest.Reply{Status: 500, Body: "internal error for " + testRefresh},
			adapters.RefreshError{Provider: ProviderID, Status: 500}},
		{"rate limited", oauthtest.Reply{Status: 429, Body: map[string]string{"error": "rate_limit_exceeded"}},
			adapters.RefreshError{Provider: ProviderID, Status: 429, Code: "rate_limit_exceeded"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := oauthtest.New(t)
			srv.Token = func(map[string]string) oauthtest.Reply { return c.reply }
			rec := oauthRecord()
			rec.OAuth.TokenURL = srv.TokenURL()
			_, err := New().Refresh(context.Background(), srv.Client(), rec)
			got := adaptertest.RefreshError(t, err, testRefresh, testAccess, testSecret)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if n := len(srv.TokenRequests()); n != 1 {
				t.Errorf("%d token requests, want 1 (no second auth-style attempt)", n)
			}
		})
	}
}

func TestRefreshWithoutRequest(t *testing.T) {
	srv := adaptertest.NoRequestServer(t)
	adaptertest.RefreshRefusals(t, with(func(a *adapter) { a.endpoint.TokenURL = srv.URL }).Refresh, oauthRecord(), provider.ErrClientIDRequired, provider.ErrNoRefreshToken)
}

func TestRefreshNetworkError(t *testing.T) {
	rec := oauthRecord()
	rec.OAuth.TokenURL = adaptertest.ClosedURL(t)
	_, err := New().Refresh(context.Background(), nil, rec)
	if re := adaptertest.RefreshError(t, err, testRefresh, testSecret); re.Permanent || re.Status != 0 {
		t.Fatalf("err = %v", err)
	}
}
