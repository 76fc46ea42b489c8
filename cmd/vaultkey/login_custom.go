package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
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
		if !contains(customLoginFlags, name) {
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

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
// listener and exchanges the code.
func codeLogin(ctx context.Context, e *env, _ string, o *loginOptions, secret string) (*oauth2.Token, error) {
	port := 0
	if o.port > 0 {
		port = o.port
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("loopback listener: %w", err)
	}
	defer ln.Close()
	cfg := &oauth2.Config{
		ClientID: o.clientID, ClientSecret: secret,
		Endpoint:    oauth2.Endpoint{AuthURL: o.authURL, TokenURL: o.tokenURL},
		RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port),
		Scopes:      strings.Fields(o.scope),
	}
	if secret == "" {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	verifier := oauth2.GenerateVerifier()
	var nonce [16]byte
	rand.Read(nonce[:])
	state := base64.RawURLEncoding.EncodeToString(nonce[:])
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			res.err = errors.New("the authorization answer's state does not match: not this login's")
		case q.Get("error") != "":
			res.err = fmt.Errorf("the provider refused the authorization: %s", cleanCode(q.Get("error")))
		case q.Get("code") == "":
			res.err = errors.New("the authorization answer holds no code")
		default:
			res.code = q.Get("code")
		}
		title := "Signed in"
		if res.err != nil {
			title = "Sign-in failed"
		}
		fmt.Fprintf(w, "<!doctype html><title>%s</title><p>%s. You can close this tab and return to your terminal.", title, html.EscapeString(title))
		select {
		case done <- res:
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	fmt.Fprintf(e.stderr, "Open this URL in a browser to sign in:\n\n  %s\n\n", authURL)
	if !o.noBrowser {
		if err := openBrowser(authURL, e.getenv); err != nil {
			e.notef("could not start a browser (%v): open the URL yourself", err)
		}
	}
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.err != nil {
		return nil, res.err
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: loginHTTPTimeout})
	tok, err := cfg.Exchange(hctx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, providerpkg.RefreshFailure("login", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("the token endpoint answered no access token")
	}
	return tok, nil
}

// cleanCode keeps an OAuth error code printable and short: it is shown,
// and a hostile server chooses it.
func cleanCode(s string) string {
	if providerpkg.Code(s) == "" {
		return "invalid_error_code"
	}
	return s
}
