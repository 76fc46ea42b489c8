package anthropic

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/records"
)

func loginServer(t *testing.T) *oauthtest.Server {
	srv := oauthtest.New(t)
	srv.Token = func(p map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 200, Body: map[string]any{
			"token_type": "Bearer", "access_token": newAccess, "refresh_token": newRefresh, "expires_in": 28800,
			"scope":        "user:inference user:profile",
			"account":      map[string]string{"uuid": "acc-uuid-1", "email_address": "me@example.com"},
			"organization": map[string]string{"uuid": "org-uuid-1", "name": "Example Org"},
		}}
	}
	return srv
}

func wantLoginRecord(srv *oauthtest.Server) *records.Record {
	return &records.Record{
		Provider: ProviderID, Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
		OAuth: &records.OAuth{
			Access: newAccess, Refresh: newRefresh, Expiry: now.Add(8 * time.Hour), AccountID: "acc-uuid-1",
			Scopes: []string{"user:inference", "user:profile"}, ClientID: "test-client", TokenURL: srv.TokenURL(),
		},
		Meta: map[string]string{"email": "me@example.com", "organization_id": "org-uuid-1", "organization_name": "Example Org"},
	}
}

func TestLoginLoopback(t *testing.T) {
	srv := loginServer(t)
	var out strings.Builder
	rec, err := Login(context.Background(), LoginConfig{
		ClientID: "test-client", AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(),
		Open: oauthtest.Browser(t, nil), Out: &out, HTTPClient: srv.Client(),
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantLoginRecord(srv), rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if err := rec.Validate(); err != nil {
		t.Error(err)
	}
	az := srv.AuthorizeRequests()[0]
	redirect, _ := url.Parse(az.Get("redirect_uri"))
	if redirect.Hostname() != "localhost" || redirect.Path != "/callback" {
		t.Errorf("redirect_uri %q", az.Get("redirect_uri"))
	}
	for k, v := range map[string]string{"code": "true", "client_id": "test-client", "response_type": "code", "scope": DefaultScope, "code_challenge_method": "S256"} {
		if az.Get(k) != v {
			t.Errorf("authorize %s = %q, want %q", k, az.Get(k), v)
		}
	}
	tr := srv.TokenRequests()[0]
	if tr["grant_type"] != "authorization_code" || tr["state"] != az.Get("state") || tr["redirect_uri"] != az.Get("redirect_uri") || tr["code_verifier"] == "" {
		t.Errorf("token request %v", tr)
	}
	if ct := srv.TokenContentTypes()[0]; ct != "application/json" {
		t.Errorf("exchange content type %q", ct)
	}
	if !strings.Contains(out.String(), srv.AuthorizeURL()) {
		t.Errorf("authorization URL not shown: %q", out.String())
	}
}

func TestLoginPaste(t *testing.T) {
	srv := loginServer(t)
	page := make(chan string, 1)
	rec, err := Login(context.Background(), LoginConfig{
		ClientID: "test-client", AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(),
		RedirectMode: provider.RedirectPaste, PasteRedirectURI: srv.CodePageURL(),
		Open: oauthtest.Browser(t, page), Prompt: oauthtest.PageReader(page), HTTPClient: srv.Client(),
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantLoginRecord(srv), rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if got := srv.AuthorizeRequests()[0].Get("redirect_uri"); got != srv.CodePageURL() {
		t.Errorf("redirect_uri %q", got)
	}
}

func TestLoginDefaultsStayOut(t *testing.T) {
	// With the default token URL the record names none, so a later
	// change of default reaches it. The exchange itself goes to the test
	// server through a transport rewrite.
	srv := loginServer(t)
	client := srv.Client()
	client.Transport = rewrite{to: srv.URL, base: client.Transport}
	rec, err := Login(context.Background(), LoginConfig{
		ClientID: "test-client", AuthURL: srv.AuthorizeURL(),
		Open: oauthtest.Browser(t, nil), HTTPClient: client,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.OAuth.TokenURL != "" {
		t.Errorf("default token URL stored: %q", rec.OAuth.TokenURL)
	}
}

func TestLoginErrors(t *testing.T) {
	if _, err := Login(context.Background(), LoginConfig{}); !errors.Is(err, provider.ErrClientIDRequired) {
		t.Errorf("no client id: %v", err)
	}
	if _, err := Login(context.Background(), LoginConfig{ClientID: "c", RedirectMode: 7}); err == nil {
		t.Error("unknown mode accepted")
	}

	srv := loginServer(t)
	srv.Deny = true
	_, err := Login(context.Background(), LoginConfig{ClientID: "c", AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(), Open: oauthtest.Browser(t, nil)})
	var ae *provider.AuthorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Errorf("denied: %v", err)
	}

	srv = loginServer(t)
	srv.Token = func(p map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_grant", "error_description": "code " + p["code"] + " verifier " + p["code_verifier"] + " rejected"}}
	}
	var codes []string
	open := oauthtest.Browser(t, nil)
	_, err = Login(context.Background(), LoginConfig{ClientID: "c", AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(), HTTPClient: srv.Client(),
		Open: func(u string) error { return open(u) }})
	var te *provider.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Fatalf("exchange refused: %v", err)
	}
	for _, r := range srv.TokenRequests() {
		codes = append(codes, r["code"], r["code_verifier"])
	}
	adaptertest.NoSecret(t, err, codes...)

	// A paste from another login (wrong state) is refused before any exchange.
	srv = loginServer(t)
	_, err = Login(context.Background(), LoginConfig{ClientID: "c", AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(),
		RedirectMode: provider.RedirectPaste, PasteRedirectURI: srv.CodePageURL(), Prompt: strings.NewReader("some-code#other-state\n")})
	if !errors.Is(err, provider.ErrStateMismatch) || len(srv.TokenRequests()) != 0 {
		t.Errorf("wrong state: %v, %d exchanges", err, len(srv.TokenRequests()))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Login(ctx, LoginConfig{ClientID: "c", AuthURL: srv.AuthorizeURL()}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestDefaultRedirectIsLoopback(t *testing.T) {
	// A LoginConfig that names no mode signs in through the loopback
	// listener, never by asking the user to paste.
	if (LoginConfig{}).RedirectMode != provider.RedirectLoopback {
		t.Error("the zero RedirectMode is not the loopback redirect")
	}
}
