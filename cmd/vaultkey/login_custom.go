package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	providerpkg "github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/records"
)

// customLoginFlags are the flags a custom provider's login takes.
var customLoginFlags = []string{"base-url", "auth-url", "device-url", "token-url", "client-id", "client-secret-file", "scope",
	"label", "namespace", "port", "no-browser", "dir"}

// runCustomLogin signs an account of a custom OpenAI-compatible provider
// in: with the authorization code flow and PKCE, a browser coming back to
// a listener on 127.0.0.1 (--auth-url), or with the device flow
// (--device-url). The record keeps everything a refresh needs: token URL,
// client id and (sealed) client secret, and the base URL.
func runCustomLogin(e *env, provider string, o *loginOptions) error {
	for name := range o.set {
		if !slices.Contains(customLoginFlags, name) {
			return cli.Usagef("--%s does not apply to a custom provider", name)
		}
	}
	device := o.deviceURL != ""
	switch {
	case device && o.authURL != "":
		return cli.Usagef("--auth-url and --device-url exclude each other: one login flow")
	case device && (o.set["port"] || o.set["no-browser"]):
		return cli.Usagef("--device-url takes no --port or --no-browser: the device flow opens no listener and no browser")
	}
	authFlag, authURL := "auth-url", o.authURL
	if device {
		authFlag, authURL = "device-url", o.deviceURL
	}
	for _, f := range []struct{ name, v string }{{authFlag, authURL}, {"token-url", o.tokenURL}, {"client-id", o.clientID}, {"label", o.label}} {
		if f.v == "" {
			return cli.Usagef("a custom provider's login needs --%s (and --base-url, --auth-url or --device-url, --token-url, --client-id, --label)", f.name)
		}
	}
	meta, err := baseURLMeta(provider, o.baseURL)
	if err != nil {
		return err
	}
	for _, u := range []struct{ name, v string }{{authFlag, authURL}, {"token-url", o.tokenURL}} {
		if _, err := providerpkg.ParseBaseURL(u.v, true); err != nil {
			return cli.Usagef("--%s: %v", u.name, err)
		}
	}
	if o.set["port"] && (o.port < 0 || o.port > 65535) {
		return cli.Usagef("--port %d: want 0 to 65535", o.port)
	}
	id := records.ID{Provider: provider, Namespace: o.namespace, Label: o.label}
	if err := id.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	var secret []byte
	if o.clientSecretFile != "" {
		if secret, err = readClientSecret(e, o.clientSecretFile); err != nil {
			return err
		}
		defer clear(secret)
	}

	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	ctx, cancel := context.WithTimeout(e.ctx, loginTimeout)
	defer cancel()
	login := codeLogin
	if device {
		login = deviceLogin
	}
	tok, err := login(ctx, e, provider, o, string(secret))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && e.ctx.Err() == nil {
			return fmt.Errorf("%s login: not completed within %v", provider, loginTimeout)
		}
		return fmt.Errorf("%s login: %w", provider, err)
	}
	rec := &records.Record{
		Provider: id.Provider, Namespace: id.Namespace, Label: id.Label, Kind: records.KindOAuth,
		OAuth: &records.OAuth{
			Access: records.Secret(tok.AccessToken), Refresh: records.Secret(tok.RefreshToken), Expiry: tok.Expiry,
			ClientID: o.clientID, TokenURL: o.tokenURL, ClientSecret: records.Secret(secret),
			Scopes: strings.Fields(o.scope),
		},
		Meta: meta,
	}
	return saveLogin(e, u.Vault, provider, rec)
}

// readClientSecret reads a client secret from a file, or from standard
// input for "-". It is one token, never taken from the command line.
func readClientSecret(e *env, path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(e.stdin, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the client secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	clear(b)
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("the client secret is empty or holds white space or control characters")
	}
	return []byte(s), nil
}

// deviceLogin runs the device authorization flow (RFC 8628): it shows
// the user where to enter the code and polls the token endpoint until
// they approve. A confidential client's secret goes with every request.
func deviceLogin(ctx context.Context, e *env, provider string, o *loginOptions, secret string) (*oauth2.Token, error) {
	d := &providerpkg.DeviceLogin{Provider: provider, ClientID: o.clientID, DeviceCodeURL: o.deviceURL, TokenURL: o.tokenURL,
		DeviceParams: url.Values{}, PollParams: url.Values{}}
	if o.scope != "" {
		d.DeviceParams.Set("scope", o.scope)
	}
	if secret != "" {
		d.DeviceParams.Set("client_secret", secret)
		d.PollParams.Set("client_secret", secret)
	}
	tr, err := d.Run(ctx, &http.Client{Timeout: loginHTTPTimeout}, e.stderr)
	if err != nil {
		return nil, err
	}
	var got records.OAuth
	tr.Apply(&got, time.Now())
	return &oauth2.Token{AccessToken: got.Access.Reveal(), RefreshToken: got.Refresh.Reveal(), Expiry: got.Expiry}, nil
}

// codeLogin runs the authorization code flow with PKCE through a loopback
// listener (provider.CodeFlow) and exchanges the code with oauth2, which
// sends a confidential client's secret.
func codeLogin(ctx context.Context, e *env, _ string, o *loginOptions, secret string) (*oauth2.Token, error) {
	flow := &providerpkg.CodeFlow{
		Mode: providerpkg.RedirectLoopback, LoopbackPort: max(o.port, 0), LoopbackPath: "/callback",
		AuthURL: o.authURL, ClientID: o.clientID, Scope: o.scope, Out: e.stderr,
	}
	if !o.noBrowser {
		flow.Open = func(u string) error { return openBrowser(u, e.getenv) }
	}
	g, err := flow.Run(ctx)
	if err != nil {
		return nil, err
	}
	cfg := &oauth2.Config{
		ClientID: o.clientID, ClientSecret: secret,
		Endpoint:    oauth2.Endpoint{AuthURL: o.authURL, TokenURL: o.tokenURL},
		RedirectURL: g.RedirectURI,
	}
	// One auth style, as the refresh uses: oauth2's auto-detection would
	// send a refused code (and the secret) a second time in the body.
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	if secret != "" {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: loginHTTPTimeout})
	tok, err := cfg.Exchange(hctx, g.Code, oauth2.VerifierOption(g.PKCE.Verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the authorization code: %w", providerpkg.FromRetrieveError(err, g.Code, g.PKCE.Verifier, secret))
	}
	if tok.AccessToken == "" {
		return nil, errors.New("the token endpoint answered no access token")
	}
	return tok, nil
}
