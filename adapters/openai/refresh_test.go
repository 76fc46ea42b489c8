package openai

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

const newRefresh = "rt_NEWREFRESH_4444"

func TestRefreshRotates(t *testing.T) {
	newAccess := oauthtest.JWT(map[string]any{"exp": now.Add(10 * 24 * time.Hour).Unix()})
	newID := idToken("new@example.com", "acct-456", "pro")
	cases := []struct {
		name  string
		reply map[string]any
		want  func(*records.Record)
	}{
		{"full answer", map[string]any{"access_token": newAccess, "refresh_token": newRefresh, "id_token": newID, "expires_in": 3600},
			func(r *records.Record) {
				r.OAuth.Access, r.OAuth.Refresh, r.OAuth.IDToken = records.Secret(newAccess), newRefresh, records.Secret(newID)
				r.OAuth.Expiry, r.OAuth.AccountID = now.Add(time.Hour), "acct-456"
				r.Meta = map[string]string{"email": "new@example.com", "plan_type": "pro"}
			}},
		{"expiry from the access token, id token kept", map[string]any{"access_token": newAccess, "refresh_token": newRefresh},
			func(r *records.Record) {
				r.OAuth.Access, r.OAuth.Refresh = records.Secret(newAccess), newRefresh
				r.OAuth.Expiry = now.Add(10 * 24 * time.Hour)
			}},
		{"opaque access token, no rotation", map[string]any{"access_token": "opaque"},
			func(r *records.Record) { r.OAuth.Access = "opaque" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := oauthtest.New(t)
			srv.Token = func(map[string]string) oauthtest.Reply { return oauthtest.Reply{Status: 200, Body: c.reply} }
			rec := oauthRecord()
			rec.OAuth.TokenURL = srv.TokenURL()
			before := rec.Clone()
			got, err := with(func(a *adapter) { a.now = func() time.Time { return now } }).Refresh(context.Background(), srv.Client(), rec)
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
			wantReq := []map[string]string{{"grant_type": "refresh_token", "refresh_token": testRefresh, "client_id": "client-1"}}
			if diff := cmp.Diff(wantReq, srv.TokenRequests()); diff != "" {
				t.Errorf("token request (-want +got):\n%s", diff)
			}
			if ct := srv.TokenContentTypes()[0]; ct != "application/x-www-form-urlencoded" {
				t.Errorf("content type %q", ct)
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
		{"reused", oauthtest.Reply{Status: 401, Body: map[string]any{"error": map[string]string{"code": "refresh_token_reused", "message": "Your refresh token has already been used to generate a new access token."}}},
			adapters.RefreshError{Provider: ProviderID, Status: 401, Code: "refresh_token_reused", Permanent: true}},
		{"expired", oauthtest.Reply{Status: 401, Body: map[string]any{"error": map[string]string{"code": "refresh_token_expired"}}},
			adapters.RefreshError{Provider: ProviderID, Status: 401, Code: "refresh_token_expired", Permanent: true}},
		{"invalidated", oauthtest.Reply{Status: 401, Body: map[string]any{"error": map[string]string{"code": "refresh_token_invalidated"}}},
			adapters.RefreshError{Provider: ProviderID, Status: 401, Code: "refresh_token_invalidated", Permanent: true}},
		{"invalid_grant", oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_grant", "error_description": "bad " + testRefresh}},
			adapters.RefreshError{Provider: ProviderID, Status: 400, Code: "invalid_grant", Permanent: true}},
		{"string code", oauthtest.Reply{Status: 400, Body: map[string]string{"error": "refresh_token_expired"}},
			adapters.RefreshError{Provider: ProviderID, Status: 400, Code: "refresh_token_expired", Permanent: true}},
		{"bare 401", oauthtest.Reply{Status: 401, Body: "Unauthorized"},
			adapters.RefreshError{Provider: ProviderID, Status: 401, Permanent: true}},
		{"unknown 400", oauthtest.Reply{Status: 400, Body: map[string]any{"error": map[string]string{"code": "something_new"}}},
			adapters.RefreshError{Provider: ProviderID, Status: 400, Code: "something_new"}},
		{"server error", oauthtest.Reply{Status: 500, Body: map[string]string{"error": "server_error"}},
			adapters.RefreshError{Provider: ProviderID, Status: 500, Code: "server_error"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := oauthtest.New(t)
			srv.Token = func(map[string]string) oauthtest.Reply { return c.reply }
			rec := oauthRecord()
			rec.OAuth.TokenURL = srv.TokenURL()
			_, err := New().Refresh(context.Background(), srv.Client(), rec)
			got := adaptertest.RefreshError(t, err, testRefresh, testAccess)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefreshWithoutRequest(t *testing.T) {
	srv := adaptertest.NoRequestServer(t)
	adaptertest.RefreshRefusals(t, with(func(a *adapter) { a.tokenURL = srv.URL }).Refresh, oauthRecord(), provider.ErrClientIDRequired, provider.ErrNoRefreshToken)
}

func TestRefreshClientIDOption(t *testing.T) {
	srv := oauthtest.New(t)
	srv.Token = func(map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 200, Body: map[string]string{"access_token": "a"}}
	}
	rec := oauthRecord()
	rec.OAuth.ClientID = ""
	got, err := with(func(a *adapter) { a.tokenURL = srv.TokenURL(); a.clientID = PresetCodex.ID }).Refresh(context.Background(), srv.Client(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if got.OAuth.ClientID != PresetCodex.ID || srv.TokenRequests()[0]["client_id"] != PresetCodex.ID {
		t.Errorf("client id %q", got.OAuth.ClientID)
	}
}
