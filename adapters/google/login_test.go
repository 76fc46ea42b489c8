package google

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

const ownClient = "own-desktop.apps.googleusercontent.com"

func loginServer(t *testing.T) *oauthtest.Server {
	srv := oauthtest.New(t)
	srv.Token = func(map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 200, Body: map[string]any{
			"access_token": newAccess, "refresh_token": testRefresh, "expires_in": 3599, "token_type": "Bearer",
			"scope": strings.Join(defaultScopes(), " "), "id_token": idToken("me@example.com"),
		}}
	}
	return srv
}

func wantRecord(srv *oauthtest.Server, meta map[string]string) *records.Record {
	return &records.Record{
		Provider: ProviderID, Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
		OAuth: &records.OAuth{
			Access: newAccess, Refresh: testRefresh, Expiry: now.Add(3599 * time.Second), IDToken: records.Secret(idToken("me@example.com")),
			Scopes: defaultScopes(), ClientID: ownClient, TokenURL: srv.TokenURL(),
		},
		Meta: meta,
	}
}

func TestLoginLoopback(t *testing.T) {
	srv := loginServer(t)
	rec, err := Login(context.Background(), LoginConfig{
		ClientID: ownClient, ClientSecret: testSecret, AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(),
		Open: oauthtest.Browser(t, nil), HTTPClient: srv.Client(), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantRecord(srv, map[string]string{MetaEmail: "me@example.com", MetaClientSecret: testSecret}), rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	az := srv.AuthorizeRequests()[0]
	for k, v := range map[string]string{"access_type": "offline", "prompt": "consent", "code_challenge_method": "S256", "client_id": ownClient, "scope": strings.Join(defaultScopes(), " ")} {
		if az.Get(k) != v {
			t.Errorf("authorize %s = %q, want %q", k, az.Get(k), v)
		}
	}
	ru, _ := url.Parse(az.Get("redirect_uri"))
	if ru.Hostname() != "127.0.0.1" || ru.Path != LoopbackPath {
		t.Errorf("redirect %q", az.Get("redirect_uri"))
	}
	tr := srv.TokenRequests()[0]
	if tr["client_secret"] != testSecret || tr["code_verifier"] == "" || tr["redirect_uri"] != az.Get("redirect_uri") {
		t.Errorf("token request %v", tr)
	}
}

func TestLoginPresetPaste(t *testing.T) {
	// A preset's secret comes from the preset and is not copied into
	// the record; the paste form uses the code page given.
	srv := loginServer(t)
	page := make(chan string, 1)
	rec, err := Login(context.Background(), LoginConfig{
		ClientID: PresetGeminiCLI.ID, AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(),
		RedirectMode: provider.RedirectPaste, PasteRedirectURI: srv.CodePageURL(),
		Open: oauthtest.Browser(t, page), Prompt: oauthtest.PageReader(page), HTTPClient: srv.Client(),
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := wantRecord(srv, map[string]string{MetaEmail: "me@example.com"})
	want.OAuth.ClientID = PresetGeminiCLI.ID
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if got := srv.TokenRequests()[0]["client_secret"]; got != PresetGeminiCLI.Secret {
		t.Errorf("exchange did not use the preset's secret")
	}
}

func TestLoginErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Login(ctx, LoginConfig{}); !errors.Is(err, provider.ErrClientIDRequired) {
		t.Errorf("no client: %v", err)
	}
	if _, err := Login(ctx, LoginConfig{ClientID: ownClient, RedirectMode: provider.RedirectPaste, Prompt: strings.NewReader("x")}); err == nil {
		t.Error("paste without a code page accepted")
	}
	srv := loginServer(t)
	srv.Deny = true
	_, err := Login(ctx, LoginConfig{ClientID: ownClient, AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(), Open: oauthtest.Browser(t, nil)})
	var ae *provider.AuthorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Errorf("denied: %v", err)
	}
	srv = loginServer(t)
	srv.Token = func(p map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_grant", "error_description": "Bad code " + p["code"] + " for " + p["client_secret"]}}
	}
	_, err = Login(ctx, LoginConfig{ClientID: ownClient, ClientSecret: testSecret, AuthURL: srv.AuthorizeURL(), TokenURL: srv.TokenURL(), Open: oauthtest.Browser(t, nil), HTTPClient: srv.Client()})
	var te *provider.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Fatalf("exchange: %v", err)
	}
	adaptertest.NoSecret(t, err, testSecret, srv.TokenRequests()[0]["code"], srv.TokenRequests()[0]["code_verifier"])
}

func TestLoginDevice(t *testing.T) {
	srv := loginServer(t)
	replies := []oauthtest.Reply{
		{Status: 428, Body: map[string]string{"error": "authorization_pending", "error_description": "Precondition Required"}},
		{Status: 403, Body: map[string]string{"error": "slow_down", "error_description": "Forbidden"}},
		{Status: 428, Body: map[string]string{"error": "authorization_pending"}},
	}
	issue := srv.Token
	srv.Token = func(p map[string]string) oauthtest.Reply {
		if len(replies) > 0 {
			r := replies[0]
			replies = replies[1:]
			return r
		}
		return issue(p)
	}
	var slept []time.Duration
	clock := now
	var out strings.Builder
	var opened string
	rec, err := LoginDevice(context.Background(), DeviceConfig{
		ClientID: ownClient, ClientSecret: testSecret, DeviceAuthURL: srv.DeviceURL(), TokenURL: srv.TokenURL(),
		HTTPClient: srv.Client(), Out: &out,
		Open: func(u string) error { opened = u; return nil },
		Now:  func() time.Time { return clock },
		Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			clock = clock.Add(d)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}, slept); diff != "" {
		t.Errorf("poll intervals (-want +got):\n%s", diff)
	}
	want := wantRecord(srv, map[string]string{MetaEmail: "me@example.com", MetaClientSecret: testSecret})
	want.OAuth.Expiry = now.Add(30*time.Second + 3599*time.Second)
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if !strings.Contains(out.String(), "WXYZ-1234") || opened != oauthtest.VerificationURL {
		t.Errorf("instructions %q, opened %q", out.String(), opened)
	}
	dr := srv.DeviceRequests()[0]
	if dr["client_id"] != ownClient || dr["scope"] != strings.Join(defaultScopes(), " ") {
		t.Errorf("device request %v", dr)
	}
	polls := srv.TokenRequests()
	if len(polls) != 4 || polls[0]["grant_type"] != "urn:ietf:params:oauth:grant-type:device_code" || polls[0]["device_code"] != "test-device-code" || polls[0]["client_secret"] != testSecret {
		t.Errorf("polls %v", polls)
	}
}

func TestLoginDeviceFailures(t *testing.T) {
	ctx := context.Background()
	if _, err := LoginDevice(ctx, DeviceConfig{}); !errors.Is(err, provider.ErrClientIDRequired) {
		t.Errorf("no client: %v", err)
	}
	if _, err := LoginDevice(ctx, DeviceConfig{ClientID: PresetGeminiCLI.ID}); !errors.Is(err, ErrDeviceFlowUnsupported) {
		t.Errorf("desktop preset: %v", err)
	}
	noSleep := func(context.Context, time.Duration) error { return nil }

	srv := loginServer(t)
	srv.Device = func(map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 401, Body: map[string]string{"error": "invalid_client", "error_description": "Invalid client type."}}
	}
	_, err := LoginDevice(ctx, DeviceConfig{ClientID: ownClient, DeviceAuthURL: srv.DeviceURL(), TokenURL: srv.TokenURL(), Sleep: noSleep})
	var te *provider.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_client" {
		t.Errorf("wrong client type: %v", err)
	}

	srv = loginServer(t)
	srv.Token = func(map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 403, Body: map[string]string{"error": "access_denied"}}
	}
	_, err = LoginDevice(ctx, DeviceConfig{ClientID: ownClient, DeviceAuthURL: srv.DeviceURL(), TokenURL: srv.TokenURL(), Sleep: noSleep})
	var ae *provider.AuthorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Errorf("denied: %v", err)
	}

	srv = loginServer(t)
	srv.Token = func(map[string]string) oauthtest.Reply {
		return oauthtest.Reply{Status: 428, Body: map[string]string{"error": "authorization_pending"}}
	}
	clock := now
	_, err = LoginDevice(ctx, DeviceConfig{ClientID: ownClient, DeviceAuthURL: srv.DeviceURL(), TokenURL: srv.TokenURL(),
		Now: func() time.Time { return clock },
		Sleep: func(_ context.Context, d time.Duration) error {
			clock = clock.Add(d)
			return nil
		}})
	if !errors.Is(err, provider.ErrDeviceCodeExpired) {
		t.Errorf("never approved: %v", err)
	}
	if n := len(srv.TokenRequests()); n != 1800/5-1 {
		t.Errorf("%d polls in 30 minutes at 5 s", n)
	}
}

func TestDefaultRedirectIsLoopback(t *testing.T) {
	// A LoginConfig that names no mode signs in through the loopback
	// listener, never by asking the user to paste.
	if (LoginConfig{}).RedirectMode != provider.RedirectLoopback {
		t.Error("the zero RedirectMode is not the loopback redirect")
	}
}
