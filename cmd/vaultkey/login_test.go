package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// getRecord reads id from the sandbox's vault in this process.
func getRecord(t *testing.T, s *sandbox, id string) *records.Record {
	t.Helper()
	rid, err := records.ParseID(id)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := openVault(t, s.dir, s.identitiesFromFile()).Get(context.Background(), rid)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return rec
}

// accountJSON returns the "accounts list --json" entry of id.
func accountJSON(t *testing.T, s *sandbox, id string) jsonAccount {
	t.Helper()
	var accts []jsonAccount
	if err := json.Unmarshal([]byte(s.run(0, "accounts", "list", "--json").stdout), &accts); err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no account %s in accounts list", id)
	return jsonAccount{}
}

// fakeDeviceCode is the device code of newFakeAuth's device
// authorization endpoint.
const fakeDeviceCode = "device-code-CANARY-0001"

// newFakeAuth starts an authorization server whose device authorization
// endpoint answers fakeDeviceCode, to be polled every second.
func newFakeAuth(t testing.TB) *oauthtest.Server {
	f := oauthtest.New(t)
	f.Set(func(f *oauthtest.Server) {
		f.Device = oauthtest.Script(oauthtest.Reply{Status: 200, Body: map[string]any{
			"device_code": fakeDeviceCode, "user_code": "WXYZ-1234",
			"verification_uri": oauthtest.VerificationURL, "expires_in": 600, "interval": 1,
		}})
	})
	return f
}

// newLoginSandbox returns a sandbox with a vault, whose leak check looks
// for secrets, and an authorization server.
func newLoginSandbox(t *testing.T, secrets ...string) (*sandbox, *oauthtest.Server) {
	t.Helper()
	s := newSandbox(t)
	s.initFile()
	for _, v := range secrets {
		s.addSecret(v)
	}
	return s, newFakeAuth(t)
}

var urlLine = regexp.MustCompile(`^\s+(https?://\S+)$`)

func TestLoginAnthropic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	access, refresh := "sk-ant-oat01-CANARY-login-1", "sk-ant-ort01-CANARY-login-1"
	s, f := newLoginSandbox(t, access, refresh, "sk-ant-oat01-CANARY-login-2", "sk-ant-ort01-CANARY-login-2")
	var mu sync.Mutex
	f.Set(func(f *oauthtest.Server) {
		f.Token = func(p map[string]string) oauthtest.Reply {
			mu.Lock()
			defer mu.Unlock()
			return oauthtest.Reply{Status: 200, Body: map[string]any{
				"access_token": access, "refresh_token": refresh, "expires_in": 3600, "token_type": "Bearer",
				"account":      map[string]string{"uuid": "acct-uuid-1", "email_address": "me@example.com"},
				"organization": map[string]string{"uuid": "org-1", "name": "Example"},
			}}
		}
	})
	endpoints := []string{"--auth-url", f.AuthorizeURL(), "--token-url", f.TokenURL()}

	// Loopback: the URL goes to stderr, the browser comes back to the
	// listener, the account is named by its email.
	p := s.start(append([]string{"login", "anthropic", "--client-id", "my-client", "--no-browser"}, endpoints...)...)
	m := p.waitLine(urlLine)
	// The listener may close the connection as soon as it has the code,
	// before its page is written.
	if status, page, err := oauthtest.Visit(m[1]); err == nil && (status != 200 || !strings.Contains(page, "Signed in")) {
		t.Errorf("the loopback listener answered %d: %s", status, page)
	}
	r := p.wait(0)
	if r.stdout != "logged in: anthropic/default/me@example.com\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	if strings.Contains(r.stderr, "public client") {
		t.Errorf("a note about presets for an own client:\n%s", r.stderr)
	}
	tr := f.TokenRequests()
	if len(tr) != 1 || tr[0]["client_id"] != "my-client" || tr[0]["grant_type"] != "authorization_code" {
		t.Errorf("token requests: %v", tr)
	}
	rec := getRecord(t, s, "anthropic/default/me@example.com")
	if rec.Kind != records.KindOAuth || rec.OAuth.Access.Reveal() != access || rec.OAuth.Refresh.Reveal() != refresh ||
		rec.OAuth.ClientID != "my-client" || rec.OAuth.TokenURL != f.TokenURL() || rec.OAuth.AccountID != "acct-uuid-1" ||
		rec.Meta["email"] != "me@example.com" || rec.Meta[metaClientPreset] != "" {
		t.Errorf("stored record: %+v %+v", rec, rec.OAuth)
	}
	created := rec.Created

	// The account stops working: another process marks it, and the user
	// adds metadata of their own.
	v := openVault(t, s.dir, s.identitiesFromFile())
	if _, err := v.Update(ctx, rec.ID(), func(r *records.Record) error {
		r.Meta["project"] = "kept"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pl, err := pool.Open(ctx, v, pool.KeyOf(rec.ID()))
	if err != nil {
		t.Fatal(err)
	}
	l, err := pl.Acquire(ctx, pool.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Report(l, pool.Outcome{Kind: pool.NeedsReauth, Reason: "invalid_grant"}); err != nil {
		t.Fatal(err)
	}
	pl.Close()
	if a := accountJSON(t, s, "anthropic/default/me@example.com"); !a.NeedsReauth {
		t.Fatalf("the account is not marked: %+v", a)
	}

	// Log in again, with the preset, pasting the code page's text: the
	// credential is replaced, creation time and user metadata are kept,
	// the flag is cleared, and the terms note is printed once.
	mu.Lock()
	access, refresh = "sk-ant-oat01-CANARY-login-2", "sk-ant-ort01-CANARY-login-2"
	mu.Unlock()
	p = s.start(append([]string{"login", "anthropic", "--client", "claude-code", "--paste", "--no-browser", "--redirect-url", f.CodePageURL()}, endpoints...)...)
	m = p.waitLine(urlLine)
	_, page, _ := oauthtest.Visit(m[1])
	if !strings.Contains(page, "#") {
		t.Fatalf("code page: %q", page)
	}
	if _, err := p.stdin.Write([]byte(page)); err != nil {
		t.Fatal(err)
	}
	r = p.wait(0)
	if r.stdout != "logged in: anthropic/default/me@example.com\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	note := "using the public client of Claude Code (preset claude-code); use is subject to Anthropic's terms"
	if strings.Count(r.stderr, note) != 1 || !strings.Contains(r.stderr, "already in the vault") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if q := f.AuthorizeRequests(); q[len(q)-1].Get("client_id") != anthropic.PresetClaudeCode.ID || q[len(q)-1].Get("redirect_uri") != f.URL+"/code" {
		t.Errorf("authorization request: %v", q[len(q)-1])
	}
	rec = getRecord(t, s, "anthropic/default/me@example.com")
	if rec.OAuth.Access.Reveal() != access || rec.OAuth.ClientID != anthropic.PresetClaudeCode.ID ||
		rec.Meta[metaClientPreset] != "claude-code" || rec.Meta["project"] != "kept" || !rec.Created.Equal(created) {
		t.Errorf("record after the second login: %+v %+v", rec, rec.OAuth)
	}
	if a := accountJSON(t, s, "anthropic/default/me@example.com"); a.NeedsReauth || a.State != "ready" {
		t.Errorf("needs-re-auth not cleared: %+v", a)
	}

	// --label and --namespace name the account; a paste of another
	// login's code is refused and stores nothing.
	p = s.start(append([]string{"login", "anthropic", "--client-id", "my-client", "--label", "work", "--namespace", "team", "--paste", "--no-browser", "--redirect-url", f.CodePageURL()}, endpoints...)...)
	p.waitLine(urlLine)
	p.stdin.Write([]byte("code-xyz#not-the-state\n"))
	if r := p.wait(1); !strings.Contains(r.stderr, "state") || r.stdout != "" {
		t.Errorf("foreign paste:\n%s", r)
	}
	p = s.start(append([]string{"login", "anthropic", "--client-id", "my-client", "--label", "work", "--namespace", "team", "--no-browser"}, endpoints...)...)
	oauthtest.Visit(p.waitLine(urlLine)[1])
	if r := p.wait(0); r.stdout != "logged in: anthropic/team/work\n" {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestLoginOpenAI(t *testing.T) {
	t.Parallel()
	access, refresh := "CANARY-openai-access", "CANARY-openai-refresh"
	idToken := oauthtest.JWT(map[string]any{
		"email":                       "dev@example.com",
		"https://api.openai.com/auth": map[string]string{"chatgpt_account_id": "acct-openai-1", "chatgpt_plan_type": "plus"},
	})
	s, f := newLoginSandbox(t, access, refresh, idToken)
	f.Set(func(f *oauthtest.Server) {
		f.Token = func(map[string]string) oauthtest.Reply {
			return oauthtest.Reply{Status: 200, Body: map[string]any{"access_token": access, "refresh_token": refresh, "id_token": idToken, "expires_in": 3600, "token_type": "Bearer"}}
		}
	})

	p := s.start("login", "openai", "--client-id", "app_test", "--issuer", f.URL, "--port", "0", "--no-browser")
	oauthtest.Visit(p.waitLine(urlLine)[1])
	if r := p.wait(0); r.stdout != "logged in: openai/default/dev@example.com\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	rec := getRecord(t, s, "openai/default/dev@example.com")
	if rec.OAuth.Access.Reveal() != access || rec.OAuth.AccountID != "acct-openai-1" || rec.OAuth.ClientID != "app_test" ||
		rec.OAuth.TokenURL != f.URL+"/oauth/token" {
		t.Errorf("stored: %+v", rec.OAuth)
	}

	// Paste: the browser elsewhere cannot reach localhost; the user
	// pastes the URL it tried to load.
	p = s.start("login", "openai", "--client-id", "app_test", "--issuer", f.URL, "--port", "1455", "--paste", "--no-browser", "--label", "work")
	m := p.waitLine(urlLine)
	if !strings.Contains(m[1], "localhost%3A1455%2Fauth%2Fcallback") {
		t.Errorf("the paste form's redirect is not the registered port: %s", m[1])
	}
	loc, err := oauthtest.Location(m[1])
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	p.stdin.Write([]byte(loc + "\n"))
	if r := p.wait(0); r.stdout != "logged in: openai/default/work\n" {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestLoginGoogle(t *testing.T) {
	t.Parallel()
	access, refresh := "ya29.CANARY-google-access", "1//CANARY-google-refresh"
	s, f := newLoginSandbox(t, access, refresh)
	const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"
	tokens := oauthtest.Reply{Status: 200, Body: map[string]any{"access_token": access, "refresh_token": refresh, "expires_in": 3599, "token_type": "Bearer",
		"id_token": oauthtest.JWT(map[string]any{"email": "g@example.com", "sub": "1234"})}}
	poll := oauthtest.Script(oauthtest.Reply{Status: 428, Body: map[string]string{"error": "authorization_pending"}}, tokens)
	f.Set(func(f *oauthtest.Server) {
		f.Token = func(p map[string]string) oauthtest.Reply {
			if p["grant_type"] == deviceGrant {
				return poll(p)
			}
			return tokens
		}
	})

	p := s.start("login", "google", "--client-id", "own.apps.googleusercontent.com", "--client-secret", "GOCSPX-own-public",
		"--auth-url", f.AuthorizeURL(), "--token-url", f.TokenURL(), "--no-browser")
	oauthtest.Visit(p.waitLine(urlLine)[1])
	if r := p.wait(0); r.stdout != "logged in: google/default/g@example.com\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	rec := getRecord(t, s, "google/default/g@example.com")
	if rec.OAuth.Refresh.Reveal() != refresh || rec.OAuth.ClientID != "own.apps.googleusercontent.com" || rec.Meta["client_secret"] != "GOCSPX-own-public" {
		t.Errorf("stored: %+v %v", rec.OAuth, rec.Meta)
	}
	if tr := f.TokenRequests(); tr[0]["client_secret"] != "GOCSPX-own-public" {
		t.Errorf("the code exchange did not send the client secret")
	}

	// The device flow: the code is shown, the poll waits for approval.
	p = s.start("login", "google", "--device", "--client-id", "tv.apps.googleusercontent.com", "--label", "tv",
		"--device-url", f.DeviceURL(), "--token-url", f.TokenURL(), "--no-browser")
	p.waitLine(regexp.MustCompile(`enter the code WXYZ-1234`))
	r := p.wait(0)
	if r.stdout != "logged in: google/default/tv\n" || !strings.Contains(r.stderr, oauthtest.VerificationURL) {
		t.Errorf("device login:\n%s", r)
	}
	polls := 0
	for _, p := range f.TokenRequests() {
		if p["grant_type"] == deviceGrant {
			polls++
		}
	}
	if polls != 2 {
		t.Errorf("%d polls, want 2", polls)
	}
	// The preset cannot use the device flow, and says so.
	if r := s.run(1, "login", "google", "--device", "--client", "gemini-cli", "--device-url", f.DeviceURL()); !strings.Contains(r.stderr, "device flow") ||
		!strings.Contains(r.stderr, "preset gemini-cli") {
		t.Errorf("gemini-cli with --device:\n%s", r)
	}
}

func TestLoginCopilot(t *testing.T) {
	t.Parallel()
	gh, cp := "ghu_CANARYcopilotGitHubToken", "tid=CANARY-copilot-token;exp=1"
	s, f := newLoginSandbox(t, gh, cp)
	poll := oauthtest.Script(
		oauthtest.Reply{Status: 200, Body: map[string]string{"error": "authorization_pending"}}, // GitHub's way
		oauthtest.Reply{Status: 200, Body: map[string]string{"access_token": gh, "token_type": "bearer", "scope": "read:user"}})
	f.Set(func(f *oauthtest.Server) {
		f.Token = func(p map[string]string) oauthtest.Reply {
			if p["device_code"] != fakeDeviceCode {
				return oauthtest.Reply{Status: 200, Body: map[string]string{"error": "bad_verification_code"}}
			}
			return poll(p)
		}
	})
	f.Handle("/copilot_internal/v2/token", func(r *http.Request) oauthtest.Reply {
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token "); !ok || token != gh {
			return oauthtest.Reply{Status: 401, Body: map[string]string{"message": "Bad credentials"}}
		}
		return oauthtest.Reply{Status: 200, Body: map[string]any{"token": cp, "expires_at": time.Now().Add(30 * time.Minute).Unix(), "refresh_in": 1500,
			"endpoints": map[string]string{"api": "https://copilot-api.octo.ghe.com"}, "sku": "copilot_enterprise_seat"}}
	})

	p := s.start("login", "copilot", "--client", "github-copilot", "--label", "work", "--enterprise", "octo.ghe.com",
		"--device-url", f.DeviceURL(), "--token-url", f.TokenURL(), "--api-url", f.URL)
	p.waitLine(regexp.MustCompile(`enter the code WXYZ-1234`))
	r := p.wait(0)
	if r.stdout != "logged in: copilot/octo.ghe.com/work\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	id, _ := copilot.Preset("github-copilot")
	if !strings.Contains(r.stderr, "using the public client of GitHub Copilot's editor integrations (preset github-copilot); use is subject to GitHub's terms") {
		t.Errorf("no terms note:\n%s", r.stderr)
	}
	if d := f.DeviceRequests(); len(d) != 1 || d[0]["client_id"] != id || d[0]["scope"] != "read:user" {
		t.Errorf("device requests: %v", d)
	}
	rec := getRecord(t, s, "copilot/octo.ghe.com/work")
	if rec.OAuth.Refresh.Reveal() != gh || rec.OAuth.Access.Reveal() != cp || rec.OAuth.ClientID != id ||
		rec.Meta["api_endpoint"] != "https://copilot-api.octo.ghe.com" || rec.Meta[metaClientPreset] != "github-copilot" {
		t.Errorf("stored: %+v %v", rec.OAuth, rec.Meta)
	}

	// Copilot accounts live in the namespace of their host.
	s.run(2, "login", "copilot", "--client", "github-copilot", "--label", "x", "--namespace", "work")
	s.run(2, "login", "copilot", "--client", "github-copilot", "--label", "x", "--enterprise", "not a host")
}

func TestLoginQwen(t *testing.T) {
	t.Parallel()
	access, refresh := "CANARY-qwen-access", "CANARY-qwen-refresh"
	s, f := newLoginSandbox(t, access, refresh)
	f.Set(func(f *oauthtest.Server) {
		f.Token = oauthtest.Script(
			oauthtest.Reply{Status: 400, Body: map[string]string{"error": "authorization_pending"}}, // Qwen's way
			oauthtest.Reply{Status: 200, Body: map[string]any{"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
				"expires_in": 3600, "resource_url": "portal.qwen.ai"}})
	})
	p := s.start("login", "qwen", "--client", "qwen-code", "--label", "me",
		"--device-url", f.DeviceURL(), "--token-url", f.TokenURL())
	p.waitLine(regexp.MustCompile(`enter the code WXYZ-1234`))
	r := p.wait(0)
	if r.stdout != "logged in: qwen/default/me\n" || !strings.Contains(r.stderr, "(preset qwen-code); use is subject to Qwen's terms") {
		t.Errorf("qwen login:\n%s", r)
	}
	// PKCE: the poll's verifier matches the device request's challenge.
	d, tr := f.DeviceRequests(), f.TokenRequests()
	sum := sha256.Sum256([]byte(tr[len(tr)-1]["code_verifier"]))
	if d[0]["client_id"] != qwen.QwenCodeClientID || d[0]["code_challenge_method"] != "S256" ||
		d[0]["code_challenge"] != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("device request %v, poll %v", d[0], tr[len(tr)-1])
	}
	rec := getRecord(t, s, "qwen/default/me")
	if rec.OAuth.Access.Reveal() != access || rec.OAuth.ClientID != qwen.QwenCodeClientID || rec.Meta["resource_url"] != "portal.qwen.ai" {
		t.Errorf("stored: %+v %v", rec.OAuth, rec.Meta)
	}
}

// --base-url on a built-in provider's login: refused before any sign-in
// when it is not an http(s) URL, else stored in the record's Meta.
func TestLoginBaseURL(t *testing.T) {
	t.Parallel()
	access, refresh := "CANARY-qwen-base-access", "CANARY-qwen-base-refresh"
	s, f := newLoginSandbox(t, access, refresh)
	f.Set(func(f *oauthtest.Server) {
		f.Token = oauthtest.Script(oauthtest.Reply{Status: 200, Body: map[string]any{
			"access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": 3600}})
	})
	login := []string{"login", "qwen", "--client", "qwen-code", "--label", "me", "--device-url", f.DeviceURL(), "--token-url", f.TokenURL()}
	if r := s.run(2, append(login, "--base-url", "ftp://gw.example")...); !strings.Contains(r.stderr, "--base-url") {
		t.Errorf("a bad --base-url:\n%s", r)
	}
	if n := len(f.DeviceRequests()); n != 0 {
		t.Errorf("a bad --base-url still started the sign-in: %d device requests", n)
	}
	p := s.start(append(login, "--base-url", "https://gw.example/qwen/v1")...)
	if r := p.wait(0); r.stdout != "logged in: qwen/default/me\n" {
		t.Fatalf("login:\n%s", r)
	}
	if rec := getRecord(t, s, "qwen/default/me"); rec.Meta[adapters.MetaBaseURL] != "https://gw.example/qwen/v1" {
		t.Errorf("stored Meta: %v", rec.Meta)
	}
}

func TestLoginUsage(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	// No vault: the login fails before anything is sent.
	if r := s.run(1, "login", "anthropic", "--client", "claude-code", "--auth-url", "http://127.0.0.1:1/authorize"); !strings.Contains(r.stderr, "vaultkey init") {
		t.Errorf("no vault:\n%s", r)
	}
	s.initFile()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		// Without a client: a usage error that lists the presets with
		// whose client each is.
		{[]string{"anthropic"}, []string{"--client-id ID", "--client claude-code (the public OAuth client of Claude Code"}},
		{[]string{"openai"}, []string{"--client codex (the public OAuth client of the Codex CLI"}},
		{[]string{"google"}, []string{"--client gemini-cli (the public installed-app OAuth client of Gemini CLI"}},
		{[]string{"copilot", "--label", "x"}, []string{"--client github-copilot (the GitHub App"}},
		{[]string{"qwen", "--label", "x"}, []string{"--client qwen-code (the public OAuth client of Qwen Code"}},
		{[]string{"anthropic", "--client", "codex"}, []string{`no preset "codex"`}},
		{[]string{"anthropic", "--client", "claude-code", "--client-id", "x"}, []string{"exclude each other"}},
		{[]string{"cursor"}, []string{"accounts add-key cursor"}},
		{[]string{"acme"}, []string{`no login for "acme"`}},
		{[]string{}, []string{"name exactly one provider"}},
		{[]string{"openai", "--client", "codex", "--auth-url", "x"}, []string{"--auth-url does not apply to openai"}},
		{[]string{"anthropic", "--client", "claude-code", "--enterprise", "h"}, []string{"--enterprise does not apply"}},
		{[]string{"anthropic", "--client", "claude-code", "--device"}, []string{"--device does not apply"}},
		{[]string{"google", "--client", "gemini-cli", "--device", "--paste"}, []string{"exclude each other"}},
		{[]string{"anthropic", "--client", "claude-code", "--redirect-url", "x"}, []string{"needs --paste"}},
		{[]string{"anthropic", "--client", "claude-code", "--port", "70000"}, []string{"--port"}},
		{[]string{"copilot", "--client", "github-copilot"}, []string{"--label is required"}},
		{[]string{"anthropic", "--client", "claude-code", "--label", "a/b"}, []string{"invalid"}},
		{[]string{"google", "--client", "gemini-cli", "--client-secret", "s"}, []string{"--client-secret"}},
	} {
		r := s.run(2, append([]string{"login"}, tc.args...)...)
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("login %v: want %q on stderr:\n%s", tc.args, w, r.stderr)
			}
		}
		if strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
			t.Errorf("login %v: want one line on stderr and nothing on stdout:\n%s", tc.args, r)
		}
	}
	// Cursor accounts are API keys, added without a login.
	s.addKey("cursor", "ci", "key_canary_cursor_0001")
	if rec := getRecord(t, s, "cursor/default/ci"); rec.Kind != records.KindAPI || rec.API.Key.Reveal() != "key_canary_cursor_0001" {
		t.Errorf("cursor account: %+v", rec)
	}

	// The manual documents every preset and whose client it is.
	h := s.run(0, "help", "login").stdout
	for _, w := range []string{"claude-code", "codex", "gemini-cli", "github-copilot", "qwen-code", "terms"} {
		if !strings.Contains(h, w) {
			t.Errorf("help login does not mention %q", w)
		}
	}
}

// A custom provider's login keeps what a refresh needs in the record:
// token URL, client id, client secret, and the base URL.
func TestLoginCustomProvider(t *testing.T) {
	t.Parallel()
	access, refresh, secret := "corp-access-CANARY-1", "corp-refresh-CANARY-1", "corp-client-secret-CANARY"
	s, f := newLoginSandbox(t, access, refresh, secret)
	f.Set(func(f *oauthtest.Server) {
		f.Token = func(p map[string]string) oauthtest.Reply {
			return oauthtest.Reply{Status: 200, Body: map[string]any{
				"access_token": access, "refresh_token": refresh, "expires_in": 3600, "token_type": "Bearer"}}
		}
	})
	// Unknown provider without a base URL: refused.
	if r := s.run(2, "login", "corpai", "--client-id", "vk", "--no-browser"); !strings.Contains(r.stderr, "a custom provider: --base-url") {
		t.Errorf("login of an unknown provider:\n%s", r)
	}
	p := s.start("login", "corpai", "--base-url", "https://llm.corp.example/v1", "--auth-url", f.AuthorizeURL(),
		"--token-url", f.TokenURL(), "--client-id", "vk", "--client-secret-file", "-", "--label", "me", "--scope", "openid llm", "--no-browser")
	io.WriteString(p.stdin, secret+"\n")
	p.stdin.Close()
	m := p.waitLine(urlLine)
	if status, page, err := oauthtest.Visit(m[1]); err == nil && (status != 200 || !strings.Contains(page, "Signed in")) {
		t.Errorf("the loopback listener answered %d: %s", status, page)
	}
	if r := p.wait(0); r.stdout != "logged in: corpai/default/me\n" {
		t.Fatalf("login:\n%s", r)
	}
	if tr := f.TokenRequests(); len(tr) != 1 || tr[0]["client_id"] != "vk" || tr[0]["client_secret"] != secret {
		t.Errorf("token requests: %d", len(tr))
	}
	rec := getRecord(t, s, "corpai/default/me")
	if rec.Kind != records.KindOAuth || rec.OAuth.Access.Reveal() != access || rec.OAuth.Refresh.Reveal() != refresh ||
		rec.OAuth.ClientID != "vk" || rec.OAuth.TokenURL != f.TokenURL() || rec.OAuth.ClientSecret.Reveal() != secret ||
		rec.Meta["base_url"] != "https://llm.corp.example/v1" || strings.Join(rec.OAuth.Scopes, " ") != "openid llm" {
		t.Errorf("stored record: %+v %+v", rec, rec.OAuth)
	}
}

// A custom provider's token endpoint that refuses the code: the login
// fails naming the OAuth error, and quotes neither the code nor the client
// secret that the endpoint echoes back in its description.
func TestLoginCustomProviderRefused(t *testing.T) {
	t.Parallel()
	secret := "corp-client-secret-CANARY-2"
	s, f := newLoginSandbox(t, secret)
	f.Set(func(f *oauthtest.Server) {
		f.Token = func(p map[string]string) oauthtest.Reply {
			return oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_grant",
				"error_description": "bad code " + p["code"] + " for secret " + p["client_secret"]}}
		}
	})
	p := s.start("login", "corpai", "--base-url", "https://llm.corp.example/v1", "--auth-url", f.AuthorizeURL(),
		"--token-url", f.TokenURL(), "--client-id", "vk", "--client-secret-file", "-", "--label", "me", "--no-browser")
	io.WriteString(p.stdin, secret+"\n")
	p.stdin.Close()
	m := p.waitLine(urlLine)
	oauthtest.Visit(m[1])
	r := p.wait(1)
	tr := f.TokenRequests()
	if len(tr) != 1 || tr[0]["code"] == "" {
		t.Fatalf("token requests: %d", len(tr))
	}
	if !strings.Contains(r.stderr, "exchanging the authorization code") || !strings.Contains(r.stderr, "invalid_grant") ||
		strings.Contains(r.stderr, tr[0]["code"]) || strings.Contains(r.stderr, secret) || r.stdout != "" {
		t.Errorf("refused login:\n%s", r)
	}
}

// A custom provider with a device authorization endpoint: the device
// flow, the client secret with every request, and a record holding what a
// refresh needs, as the code flow's does.
func TestLoginCustomProviderDevice(t *testing.T) {
	t.Parallel()
	access, refresh, secret := "corp-device-access-CANARY", "corp-device-refresh-CANARY", "corp-device-secret-CANARY"
	s, f := newLoginSandbox(t, access, refresh, secret)
	const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"
	poll := oauthtest.Script(oauthtest.Reply{Status: 400, Body: map[string]string{"error": "authorization_pending"}},
		oauthtest.Reply{Status: 200, Body: map[string]any{"access_token": access, "refresh_token": refresh, "expires_in": 3600, "token_type": "Bearer"}})
	f.Set(func(f *oauthtest.Server) {
		f.Token = func(p map[string]string) oauthtest.Reply {
			if p["grant_type"] != deviceGrant {
				return oauthtest.Reply{Status: 400, Body: map[string]string{"error": "unsupported_grant_type"}}
			}
			return poll(p)
		}
	})
	base := []string{"login", "corpai", "--base-url", "https://llm.corp.example/v1", "--token-url", f.TokenURL(), "--client-id", "vk", "--label", "tv"}
	// One flow at a time, and the device flow opens no listener.
	if r := s.run(2, append(base, "--device-url", f.DeviceURL(), "--auth-url", f.AuthorizeURL())...); !strings.Contains(r.stderr, "exclude each other") {
		t.Errorf("both flows:\n%s", r)
	}
	if r := s.run(2, append(base, "--device-url", f.DeviceURL(), "--port", "8080")...); !strings.Contains(r.stderr, "takes no --port") {
		t.Errorf("--device-url with --port:\n%s", r)
	}
	if r := s.run(2, append(base, "--device-url", "http://sso.corp.example/device")...); !strings.Contains(r.stderr, "--device-url") {
		t.Errorf("a plain-http device endpoint:\n%s", r)
	}
	if len(f.DeviceRequests()) != 0 {
		t.Fatal("a refused login asked for a device code")
	}

	p := s.start(append(base, "--device-url", f.DeviceURL(), "--client-secret-file", "-", "--scope", "openid llm")...)
	io.WriteString(p.stdin, secret+"\n")
	p.stdin.Close()
	p.waitLine(regexp.MustCompile(`enter the code WXYZ-1234`))
	r := p.wait(0)
	if r.stdout != "logged in: corpai/default/tv\n" || !strings.Contains(r.stderr, oauthtest.VerificationURL) {
		t.Fatalf("device login:\n%s", r)
	}
	d := f.DeviceRequests()
	if len(d) != 1 || d[0]["client_id"] != "vk" || d[0]["client_secret"] != secret || d[0]["scope"] != "openid llm" {
		t.Errorf("device requests: %d", len(d))
	}
	polls := f.TokenRequests()
	if len(polls) != 2 || polls[1]["device_code"] != fakeDeviceCode || polls[1]["client_secret"] != secret {
		t.Errorf("polls: %d", len(polls))
	}
	rec := getRecord(t, s, "corpai/default/tv")
	if rec.Kind != records.KindOAuth || rec.OAuth.Access.Reveal() != access || rec.OAuth.Refresh.Reveal() != refresh ||
		rec.OAuth.ClientID != "vk" || rec.OAuth.TokenURL != f.TokenURL() || rec.OAuth.ClientSecret.Reveal() != secret ||
		rec.Meta["base_url"] != "https://llm.corp.example/v1" || rec.OAuth.Expiry.IsZero() {
		t.Errorf("stored record: %+v %+v", rec, rec.OAuth)
	}
}
