package openai

import (
	"context"
	"errors"
	"fmt"
	"net"
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

func loginServer(t *testing.T, id string) *oauthtest.Server {
	srv := oauthtest.New(t)
	srv.Token = func(map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 200, Body: map[string]any{
			"access_token": testAccess, "refresh_token": newRefresh, "id_token": id, "expires_in": 864000, "token_type": "Bearer",
		}}
	}
	return srv
}

func TestLoginLoopback(t *testing.T) {
	id := idToken("me@example.com", "acct-123", "plus")
	srv := loginServer(t, id)
	rec, err := Login(context.Background(), LoginConfig{
		ClientID: "test-client", Issuer: srv.URL + "/", Port: LoopbackAnyPort,
		Open: oauthtest.Browser(t, nil), HTTPClient: srv.Client(), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &records.Record{
		Provider: ProviderID, Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
		OAuth: &records.OAuth{
			Access: testAccess, Refresh: newRefresh, IDToken: records.Secret(id), Expiry: now.Add(240 * time.Hour),
			AccountID: "acct-123", Scopes: []string{"openid", "profile", "email", "offline_access"},
			ClientID: "test-client", TokenURL: srv.URL + "/oauth/token",
		},
		Meta: map[string]string{"email": "me@example.com", "plan_type": "plus"},
	}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	az := srv.AuthorizeRequests()[0]
	for k, v := range map[string]string{"response_type": "code", "client_id": "test-client", "scope": DefaultScope, "code_challenge_method": "S256", "id_token_add_organizations": "true"} {
		if az.Get(k) != v {
			t.Errorf("authorize %s = %q, want %q", k, az.Get(k), v)
		}
	}
	for _, k := range []string{"originator", "codex_cli_simplified_flow"} {
		if az.Has(k) {
			t.Errorf("authorize request names another product: %s", k)
		}
	}
	ru, _ := url.Parse(az.Get("redirect_uri"))
	if ru.Hostname() != "localhost" || ru.Path != LoopbackPath {
		t.Errorf("redirect %q", az.Get("redirect_uri"))
	}
	tr := srv.TokenRequests()[0]
	if tr["grant_type"] != "authorization_code" || tr["redirect_uri"] != az.Get("redirect_uri") || tr["code_verifier"] == "" || tr["client_id"] != "test-client" {
		t.Errorf("token request %v", tr)
	}
	if ct := srv.TokenContentTypes()[0]; ct != "application/x-www-form-urlencoded" {
		t.Errorf("content type %q", ct)
	}
}

func TestLoginFixedPort(t *testing.T) {
	// The registered port is used as given; take a free one for the test.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := loginServer(t, idToken("a@example.com", "acct-1", "team"))
	if _, err := Login(context.Background(), LoginConfig{ClientID: "c", Issuer: srv.URL, Port: port, Open: oauthtest.Browser(t, nil), HTTPClient: srv.Client()}); err != nil {
		t.Fatal(err)
	}
	if got, want := srv.AuthorizeRequests()[0].Get("redirect_uri"), fmt.Sprintf("http://localhost:%d/auth/callback", port); got != want {
		t.Errorf("redirect %q, want %q", got, want)
	}
}

func TestLoginPaste(t *testing.T) {
	// Paste form: nothing listens on the redirect; the user copies the
	// URL the browser could not load.
	srv := loginServer(t, idToken("me@example.com", "acct-123", "plus"))
	page := make(chan string, 1)
	rec, err := Login(context.Background(), LoginConfig{
		ClientID: "test-client", Issuer: srv.URL, RedirectMode: provider.RedirectPaste,
		Open: oauthtest.UnreachableBrowser(t, page), Prompt: oauthtest.PageReader(page),
		HTTPClient: srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.OAuth.AccountID != "acct-123" || srv.AuthorizeRequests()[0].Get("redirect_uri") != "http://localhost:1455/auth/callback" {
		t.Errorf("record %+v", rec.OAuth.AccountID)
	}
}

func TestLoginErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Login(ctx, LoginConfig{}); !errors.Is(err, provider.ErrClientIDRequired) {
		t.Errorf("no client id: %v", err)
	}
	if _, err := Login(ctx, LoginConfig{ClientID: "c", Port: 70000}); err == nil {
		t.Error("port 70000 accepted")
	}
	if _, err := Login(ctx, LoginConfig{ClientID: "c", Port: LoopbackAnyPort, RedirectMode: provider.RedirectPaste, Prompt: strings.NewReader("")}); err == nil {
		t.Error("paste with any port accepted")
	}
	srv := loginServer(t, "")
	srv.Deny = true
	_, err := Login(ctx, LoginConfig{ClientID: "c", Issuer: srv.URL, Port: LoopbackAnyPort, Open: oauthtest.Browser(t, nil)})
	var ae *provider.AuthorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Errorf("denied: %v", err)
	}

	srv = loginServer(t, "")
	srv.Token = func(p map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 400, Body: map[string]any{"error": "invalid_grant", "error_description": "verifier " + p["code_verifier"] + " does not match"}}
	}
	_, err = Login(ctx, LoginConfig{ClientID: "c", Issuer: srv.URL, Port: LoopbackAnyPort, Open: oauthtest.Browser(t, nil), HTTPClient: srv.Client()})
	var te *provider.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Fatalf("exchange refused: %v", err)
	}
	adaptertest.NoSecret(t, err, srv.TokenRequests()[0]["code_verifier"], srv.TokenRequests()[0]["code"])

	// The id token carries no account: the record still works with the
	// API, without chatgpt-account-id.
	srv = loginServer(t, "not-a-jwt")
	rec, err := Login(ctx, LoginConfig{ClientID: "c", Issuer: srv.URL, Port: LoopbackAnyPort, Open: oauthtest.Browser(t, nil), HTTPClient: srv.Client()})
	if err != nil || rec.OAuth.AccountID != "" || rec.Label != "" {
		t.Errorf("opaque id token: %v %+v", err, rec)
	}
}

func TestDefaultRedirectIsLoopback(t *testing.T) {
	// A LoginConfig that names no mode signs in through the loopback
	// listener, never by asking the user to paste.
	if (LoginConfig{}).RedirectMode != provider.RedirectLoopback {
		t.Error("the zero RedirectMode is not the loopback redirect")
	}
}
