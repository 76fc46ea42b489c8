package anthropic

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/oauthtest"
)

const (
	newAccess  = "sk-ant-oat01-NEWACCESS-3333"
	newRefresh = "sk-ant-ort01-NEWREFRESH-4444"
)

func TestRefreshRotates(t *testing.T) {
	srv := oauthtest.New(t)
	srv.Token = func(p map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 200, Body: map[string]any{
			"token_type": "Bearer", "access_token": newAccess, "refresh_token": newRefresh,
			"expires_in": 28800, "scope": "user:inference user:profile",
		}}
	}
	rec := oauthRecord()
	rec.OAuth.TokenURL = srv.TokenURL()
	rec.OAuth.Expiry = now.Add(-time.Minute)
	before := rec.Clone()
	a := with(func(a *adapter) { a.now = func() time.Time { return now } })
	got, err := a.Refresh(context.Background(), srv.Client(), rec)
	if err != nil {
		t.Fatal(err)
	}
	want := before.Clone()
	want.OAuth.Access = newAccess
	want.OAuth.Refresh = newRefresh
	want.OAuth.Expiry = now.Add(8 * time.Hour)
	want.OAuth.Scopes = []string{"user:inference", "user:profile"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, rec); diff != "" {
		t.Errorf("input record modified:\n%s", diff)
	}
	wantReq := []map[string]string{{"grant_type": "refresh_token", "refresh_token": testRefresh, "client_id": "client-1"}}
	if diff := cmp.Diff(wantReq, srv.TokenRequests()); diff != "" {
		t.Errorf("token request (-want +got):\n%s", diff)
	}
	if ct := srv.TokenContentTypes(); len(ct) != 1 || ct[0] != "application/json" {
		t.Errorf("content types %v", ct)
	}
}

func TestRefreshKeepsRefreshTokenWhenNotRotated(t *testing.T) {
	srv := oauthtest.New(t)
	srv.Token = func(map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 200, Body: map[string]any{"access_token": newAccess}}
	}
	rec := oauthRecord()
	rec.OAuth.ClientID = ""
	rec.OAuth.Expiry = now
	a := with(func(a *adapter) {
		a.tokenURL = srv.TokenURL()
		a.clientID = "from-option"
		a.now = func() time.Time { return now }
	})
	got, err := a.Refresh(context.Background(), srv.Client(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if got.OAuth.Refresh.Reveal() != testRefresh || got.OAuth.Access.Reveal() != newAccess || !got.OAuth.Expiry.IsZero() {
		t.Errorf("got access/refresh/expiry %v %v %v", got.OAuth.Access.Reveal() == newAccess, got.OAuth.Refresh.Reveal() == testRefresh, got.OAuth.Expiry)
	}
	if got.OAuth.ClientID != "from-option" || srv.TokenRequests()[0]["client_id"] != "from-option" {
		t.Errorf("client id not taken from the option: %q", got.OAuth.ClientID)
	}
}

func TestRefreshFailures(t *testing.T) {
	cases := []struct {
		name      string
		reply     oauthtest.Reply
		want      *adapters.RefreshError
		wantIsErr error
	}{
		{"invalid_grant", oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_grant", "error_description": "Refresh token not found or invalid"}},
			&adapters.RefreshError{Provider: ProviderID, Status: 400, Code: "invalid_grant", Permanent: true}, nil},
		{"invalid_grant echoing the token", oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_grant", "error_description": "token " + testRefresh + " revoked"}},
			&adapters.RefreshError{Provider: ProviderID, Status: 400, Code: "invalid_grant", Permanent: true}, nil},
		{"invalid_client", oauthtest.Reply{Status: 401, Body: map[string]string{"error": "invalid_client"}},
			&adapters.RefreshError{Provider: ProviderID, Status: 401, Code: "invalid_client", Permanent: true}, nil},
		{"api-style 400", oauthtest.Reply{Status: 400, Body: `{"type":"error","error":{"type":"invalid_request_error","message":"Invalid request format"}}`},
			&adapters.RefreshError{Provider: ProviderID, Status: 400, Code: "invalid_request_error"}, nil},
		{"rate limited", oauthtest.Reply{Status: 429, Body: `{"error":"rate_limited"}`},
			&adapters.RefreshError{Provider: ProviderID, Status: 429, Code: "rate_limited"}, nil},
		{"server error", oauthtest.Reply{Status: 503, Body: "<html>unavailable</html>"},
			&adapters.RefreshError{Provider: ProviderID, Status: 503}, nil},
		{"2xx garbage", oauthtest.Reply{Status: 200, Body: "{"}, nil, nil},
		{"2xx without token", oauthtest.Reply{Status: 200, Body: map[string]string{"token_type": "Bearer"}}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := oauthtest.New(t)
			srv.Token = func(map[string]string) oauthtest.Reply { return c.reply }
			rec := oauthRecord()
			rec.OAuth.TokenURL = srv.TokenURL()
			_, err := New().Refresh(context.Background(), srv.Client(), rec)
			got := adaptertest.RefreshError(t, err, testRefresh, testAccess, newAccess)
			if c.want == nil {
				if got.Permanent || errors.Unwrap(err) == nil {
					t.Errorf("malformed success reported as %v", err)
				}
				return
			}
			if diff := cmp.Diff(*c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefreshWithoutRequest(t *testing.T) {
	srv := adaptertest.NoRequestServer(t)
	adaptertest.RefreshRefusals(t, with(func(a *adapter) { a.tokenURL = srv.URL }).Refresh, oauthRecord(), provider.ErrClientIDRequired, provider.ErrNoRefreshToken)
}

func TestRefreshNetworkError(t *testing.T) {
	rec := oauthRecord()
	rec.OAuth.TokenURL = adaptertest.ClosedURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := New().Refresh(ctx, nil, rec)
	if re := adaptertest.RefreshError(t, err, testRefresh, testAccess); re.Permanent || re.Status != 0 {
		t.Fatalf("err = %v", err)
	}
	cancel()
	_, err = New().Refresh(ctx, nil, rec)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
