package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/cursor"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

var loginCommand = &command{
	name:     "login",
	synopsis: "login PROVIDER (--client PRESET | --client-id ID) [--label L] [--namespace N] [--paste | --device] [--no-browser] [--enterprise HOST] [--base-url URL]",
	summary:  "sign an account in with the provider's OAuth flow and store it",
	help: `Signs an account in with the provider's OAuth flow and stores its tokens
in the vault, ready for every program that uses the vault. PROVIDER is one
of:

  anthropic  Claude subscription (authorization code with PKCE: a browser
             comes back to a listener on 127.0.0.1, or --paste the code)
  openai     ChatGPT sign-in, as Codex uses (authorization code with PKCE)
  google     Google account (installed-app flow with PKCE, or --device)
  copilot    GitHub Copilot (GitHub's device flow; --enterprise HOST for a
             GitHub Enterprise host)
  qwen       Qwen (device flow with PKCE)

Cursor accounts use API keys: vaultkey accounts add-key cursor --label L.

Any other PROVIDER is a custom OpenAI-compatible provider with a standard
OAuth authorization server: give --base-url, --auth-url, --token-url,
--client-id and --label (and --client-secret-file for a confidential
client, --scope for its scopes). The login is the authorization code flow
with PKCE through a listener on 127.0.0.1 (redirect URI
http://127.0.0.1:PORT/callback); with --device-url instead of --auth-url,
it is the device flow (RFC 8628): enter the code shown on any device. The
record keeps the token URL, the client id and the client secret, sealed,
so every program using the vault refreshes the account with no
configuration of its own.

OAuth client. Every login needs an OAuth client registration, and vaultkey
has none of its own: pass the client id you registered with the provider
(--client-id), or choose a preset, the public client of another product,
with --client. The presets are:

  anthropic  claude-code      the public client of Claude Code; Anthropic
                              answers requests made with its tokens from
                              other software with "This credential is only
                              authorized for use with Claude Code"
  openai     codex            the public client of the Codex CLI (its
                              redirect is fixed at localhost port 1455)
  google     gemini-cli       the public installed-app client of Gemini
                              CLI; Google's Gemini CLI documentation says
                              using it from third-party software violates
                              Google's terms
  copilot    github-copilot   the GitHub App of GitHub's Copilot editor
                              integrations
  qwen       qwen-code        the public client of Qwen Code

Using a preset means using that product's client under its owner's terms:
vaultkey says so once, on standard error. Choose one only where those
terms allow your use. The record keeps the client id, since a refresh
must present the client the tokens were issued to.

Where the browser goes. The URL to open is printed on standard error, and
a browser is started on it unless --no-browser. The loopback flows wait
for the browser to come back to 127.0.0.1; the device flows print a code
to enter at the provider's page and wait for you to approve it there. The
login gives up after 15 minutes, or at Ctrl-C.

The account. Its ID is PROVIDER/NAMESPACE/LABEL. The label defaults to the
account's email when the provider reports one (anthropic, openai, google);
copilot and qwen need --label. An account with that ID that is already
in the vault gets the new credential and keeps its creation time and the
metadata you set (a Code Assist project id, a base URL); its
needs-re-auth flag is cleared. On success vaultkey prints one line:
"logged in: PROVIDER/NAMESPACE/LABEL". Tokens are never printed.

  --client PRESET     use a preset client (see above)
  --client-id ID      use the OAuth client you registered
  --client-secret S   google: the client secret of your own installed
                      (desktop) app client; Google does not treat those as
                      confidential. Never a web application's secret
  --label L           the account's name (default: its email)
  --namespace N       the namespace (default "default"); not for copilot,
                      whose namespace is the GitHub host
  --paste             anthropic, openai, google: no listener; after signing
                      in, paste the code the provider's page shows (or,
                      for openai, the URL the browser failed to load) on
                      standard input. For machines without a browser
  --device            google: the device flow (needs a client of Google's
                      "TVs and Limited Input devices" type)
  --no-browser        print the URL only; do not start a browser
  --port N            the loopback listener's port (default: the port the
                      client registered, 1455 for openai; else any free
                      port); 0 means any free port
  --enterprise HOST   copilot: the GitHub Enterprise host (octocorp.ghe.com);
                      it becomes the account's namespace
  --base-url URL      the account's own API base URL (a proxy, a gateway;
                      required for a custom provider): requests addressed
                      to the provider's default base URL go there, and its
                      tokens are sent to that origin and the provider's own
  --client-secret-file F
                      a custom provider: the confidential client's secret,
                      read from file F, or from standard input for "-";
                      never from the command line
  --scope S           a custom provider: the scopes to ask for, separated
                      by spaces

Endpoints, for self-hosted and proxied servers and for testing (each
defaults to the provider's; a non-default token endpoint is kept in the
record for refreshes where the provider's adapter supports it):

  --auth-url URL      anthropic, google: the authorization endpoint
  --token-url URL     anthropic, google, qwen: the token endpoint; copilot:
                      GitHub's access token endpoint
  --device-url URL    google, copilot, qwen, a custom provider: the device
                      authorization endpoint
  --api-url URL       copilot: the GitHub API base whose
                      /copilot_internal/v2/token gives Copilot tokens (e.g.
                      https://HOST/api/v3 for GitHub Enterprise Server;
                      programs using such an account must be given the same
                      endpoints)
  --issuer URL        openai: the authorization server (its /oauth/authorize
                      and /oauth/token)
  --redirect-url URL  anthropic, google with --paste: the page that shows
                      the code (default: the provider's, or the preset's)

Examples:
  vaultkey login anthropic --client claude-code
  vaultkey login copilot --client-id Iv1.0123456789abcdef --label work
  vaultkey login google --client-id ID.apps.googleusercontent.com --client-secret GOCSPX-…
  vaultkey login corpai --base-url https://llm.corp.example/v1 --auth-url https://sso.corp.example/authorize \
      --token-url https://sso.corp.example/token --client-id vaultkey --client-secret-file - --label me < secret.txt
  vaultkey login corpai --base-url https://llm.corp.example/v1 --device-url https://sso.corp.example/device \
      --token-url https://sso.corp.example/token --client-id vaultkey --label me`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &loginOptions{}
		fs.StringVar(&o.client, "client", "", "")
		fs.StringVar(&o.clientID, "client-id", "", "")
		fs.StringVar(&o.clientSecret, "client-secret", "", "")
		fs.StringVar(&o.label, "label", "", "")
		fs.StringVar(&o.namespace, "namespace", records.DefaultNamespace, "")
		fs.BoolVar(&o.paste, "paste", false, "")
		fs.BoolVar(&o.device, "device", false, "")
		fs.BoolVar(&o.noBrowser, "no-browser", false, "")
		fs.IntVar(&o.port, "port", -1, "")
		fs.StringVar(&o.enterprise, "enterprise", "", "")
		fs.StringVar(&o.authURL, "auth-url", "", "")
		fs.StringVar(&o.tokenURL, "token-url", "", "")
		fs.StringVar(&o.deviceURL, "device-url", "", "")
		fs.StringVar(&o.apiURL, "api-url", "", "")
		fs.StringVar(&o.issuer, "issuer", "", "")
		fs.StringVar(&o.redirectURL, "redirect-url", "", "")
		fs.StringVar(&o.baseURL, "base-url", "", "")
		fs.StringVar(&o.clientSecretFile, "client-secret-file", "", "")
		fs.StringVar(&o.scope, "scope", "", "")
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("name exactly one provider")
			}
			o.set = map[string]bool{}
			fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
			return runLogin(e, args[0], o)
		}
	},
}

// loginTimeout bounds a whole login, the user's part included.
const loginTimeout = 15 * time.Minute

// loginHTTPTimeout bounds each request vaultkey makes during a login.
const loginHTTPTimeout = 60 * time.Second

type loginOptions struct {
	client, clientID, clientSecret string
	label, namespace               string
	paste, device, noBrowser       bool
	port                           int
	enterprise                     string
	authURL, tokenURL, deviceURL   string
	apiURL, issuer, redirectURL    string
	baseURL, clientSecretFile      string
	scope                          string
	set                            map[string]bool // the flags given
}

// commonLoginFlags apply to every provider.
var commonLoginFlags = []string{"client", "client-id", "label", "namespace", "no-browser", "dir", "base-url"}

// loginFlags are the flags each provider's login takes besides the
// common ones.
var loginFlags = map[string][]string{
	anthropic.ProviderID: {"paste", "port", "auth-url", "token-url", "redirect-url"},
	openai.ProviderID:    {"paste", "port", "issuer"},
	google.ProviderID:    {"paste", "device", "port", "client-secret", "auth-url", "token-url", "device-url", "redirect-url"},
	copilot.Provider:     {"enterprise", "token-url", "device-url", "api-url"},
	qwen.Provider:        {"token-url", "device-url"},
}

func loginProviders() string {
	names := make([]string, 0, len(loginFlags))
	for p := range loginFlags {
		names = append(names, p)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// checkFlags refuses the flags that provider's login does not take, and
// combinations that make no sense.
func (o *loginOptions) checkFlags(provider string) error {
	allowed := append(slices.Clone(commonLoginFlags), loginFlags[provider]...)
	var names []string
	for name := range o.set {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			return cli.Usagef("--%s does not apply to %s", name, provider)
		}
	}
	switch {
	case o.set["client"] && o.set["client-id"]:
		return cli.Usagef("--client and --client-id exclude each other")
	case o.paste && o.device:
		return cli.Usagef("--paste and --device exclude each other")
	case o.device && (o.set["port"] || o.set["auth-url"] || o.set["redirect-url"]):
		return cli.Usagef("--device takes no --port, --auth-url or --redirect-url")
	case !o.device && o.set["device-url"] && provider == google.ProviderID:
		return cli.Usagef("--device-url needs --device")
	case o.set["redirect-url"] && !o.paste:
		return cli.Usagef("--redirect-url needs --paste")
	case o.set["port"] && (o.port < 0 || o.port > 65535):
		return cli.Usagef("--port %d: want 0 to 65535", o.port)
	case o.set["port"] && o.paste && provider != openai.ProviderID:
		return cli.Usagef("--paste takes no --port: nothing listens")
	case provider == copilot.Provider && o.set["namespace"]:
		return cli.Usagef("a copilot account's namespace is its GitHub host: use --enterprise HOST")
	case o.clientSecret != "" && o.client != "":
		return cli.Usagef("--client-secret is for your own client (--client-id); a preset brings its own")
	}
	return nil
}

// chooseClient returns the OAuth client id of the login, and the preset
// it belongs to when it is one.
func (o *loginOptions) chooseClient(provider string) (string, *presetClient, error) {
	switch {
	case o.client != "":
		c, ok := lookupPreset(provider, o.client)
		if !ok {
			return "", nil, cli.Usagef("%s has no preset %q; its presets: %s", provider, o.client, describePresets(provider))
		}
		return c.ID, &c, nil
	case o.clientID != "":
		if c, ok := presetByID(provider, o.clientID); ok {
			return c.ID, &c, nil
		}
		return o.clientID, nil, nil
	}
	return "", nil, cli.Usagef("%s login needs an OAuth client: pass --client-id ID for the client you registered with the provider, or choose a preset, the public client of another product, subject to its owner's terms: %s",
		provider, describePresets(provider))
}

func runLogin(e *env, provider string, o *loginOptions) error {
	if provider == cursor.Provider {
		return cli.Usagef("cursor accounts use API keys, not a login: vaultkey accounts add-key cursor --label L")
	}
	if _, ok := loginFlags[provider]; !ok {
		if _, known := adapters.Lookup(provider); known || !o.set["base-url"] {
			return cli.Usagef("no login for %q (logins: %s; a custom provider: --base-url with --auth-url or --device-url, --token-url, --client-id; other providers: vaultkey accounts add-key)", provider, loginProviders())
		}
		return runCustomLogin(e, provider, o)
	}
	if err := o.checkFlags(provider); err != nil {
		return err
	}
	clientID, preset, err := o.chooseClient(provider)
	if err != nil {
		return err
	}
	// A bad --base-url is refused before the sign-in, not after it.
	var baseMeta map[string]string
	if o.baseURL != "" {
		if baseMeta, err = baseURLMeta(provider, o.baseURL); err != nil {
			return err
		}
	}
	namespace := o.namespace
	if provider == copilot.Provider {
		namespace = records.DefaultNamespace
		if o.enterprise != "" {
			if _, err := copilot.HostFor(o.enterprise); err != nil || o.enterprise == records.DefaultNamespace {
				return cli.Usagef("--enterprise %q is not a GitHub host name", o.enterprise)
			}
			namespace = o.enterprise
		}
	}
	if o.label == "" && (provider == copilot.Provider || provider == qwen.Provider) {
		return cli.Usagef("--label is required: %s does not report the account's name", provider)
	}
	id := records.ID{Provider: provider, Namespace: namespace, Label: o.label}
	check := id
	if check.Label == "" {
		check.Label = "x" // the label comes from the login
	}
	if err := check.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}

	// The vault first: a missing vault or key should not cost a sign-in.
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()

	if preset != nil {
		e.notef("%s", preset.TermsNote())
	}
	ctx, cancel := context.WithTimeout(e.ctx, loginTimeout)
	defer cancel()
	l := &login{e: e, o: o, clientID: clientID, id: id, http: &http.Client{Timeout: loginHTTPTimeout}}
	if !o.noBrowser {
		l.open = func(u string) error { return openBrowser(u, e.getenv) }
	}
	var rec *records.Record
	switch provider {
	case anthropic.ProviderID:
		rec, err = l.anthropic(ctx)
	case openai.ProviderID:
		rec, err = l.openai(ctx, preset)
	case google.ProviderID:
		rec, err = l.google(ctx)
	case copilot.Provider:
		rec, err = l.copilot(ctx)
	case qwen.Provider:
		rec, err = l.qwen(ctx)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && e.ctx.Err() == nil {
			return fmt.Errorf("%s login: not completed within %v", provider, loginTimeout)
		}
		return fmt.Errorf("%s login: %w", provider, err)
	}
	rec.Provider, rec.Namespace = id.Provider, id.Namespace
	if id.Label != "" {
		rec.Label = id.Label
	}
	if rec.Label == "" {
		return fmt.Errorf("%s login: the provider reported no email to name the account with: log in again with --label NAME", provider)
	}
	if preset != nil {
		if rec.Meta == nil {
			rec.Meta = map[string]string{}
		}
		rec.Meta[metaClientPreset] = preset.Name
	}
	if baseMeta != nil {
		if rec.Meta == nil {
			rec.Meta = map[string]string{}
		}
		maps.Copy(rec.Meta, baseMeta)
	}
	return saveLogin(e, u.Vault, provider, rec)
}

// metaClientPreset records which preset's client an account's tokens
// were issued to.
const metaClientPreset = "client_preset"

// loginMeta are the Meta keys a login (or the client it used) determines.
// A new login drops the old record's values of these; every other key
// (set by the user) is kept.
var loginMeta = []string{
	metaClientPreset, google.MetaClientSecret, google.MetaEmail, qwen.MetaResourceURL,
	copilot.MetaAPIEndpoint, copilot.MetaPlan, "plan", "plan_type", "organization_id", "organization_name",
}

// storeLogin puts rec in the vault. An account with its ID that is
// already there keeps its creation time and the metadata its login does
// not determine.
func storeLogin(ctx context.Context, v *vault.Vault, rec *records.Record) (replaced bool, err error) {
	err = v.Batch(ctx, func(b *vault.Batch) error {
		old, err := b.Get(rec.ID())
		switch {
		case errors.Is(err, vault.ErrNotFound):
			replaced = false
			return b.Put(rec)
		case err != nil:
			return err
		}
		replaced = true
		out := rec.Clone()
		out.Created = old.Created
		for k, val := range old.Meta {
			if _, ok := out.Meta[k]; ok || slices.Contains(loginMeta, k) {
				continue
			}
			if out.Meta == nil {
				out.Meta = map[string]string{}
			}
			out.Meta[k] = val
		}
		return b.Put(out)
	})
	return replaced, err
}

// clearReauth clears the needs-re-auth flag of id's account, if set.
func clearReauth(ctx context.Context, v *vault.Vault, id records.ID) error {
	p, err := pool.Open(ctx, v, pool.KeyOf(id))
	if err != nil {
		return err
	}
	defer p.Close()
	a, err := p.Account(ctx, id)
	if err != nil {
		return err
	}
	if a.NeedsReauth {
		if err := p.ClearNeedsReauth(ctx, id); err != nil {
			return err
		}
	}
	return p.Close()
}

// login runs one provider's flow.
type login struct {
	e        *env
	o        *loginOptions
	clientID string
	id       records.ID
	http     *http.Client
	open     func(string) error // nil: print the URL only
}

// loopbackPort is the listener's port for the providers whose Login
// takes 0 as "any free port".
func (l *login) loopbackPort() int {
	if l.o.port < 0 {
		return 0
	}
	return l.o.port
}

// redirectMode is how the code of an authorization code login comes
// back: to a loopback listener, or pasted with --paste.
func (l *login) redirectMode() provider.Redirect {
	if l.o.paste {
		return provider.RedirectPaste
	}
	return provider.RedirectLoopback
}

func (l *login) anthropic(ctx context.Context) (*records.Record, error) {
	return anthropic.Login(ctx, anthropic.LoginConfig{
		ClientID:         l.clientID,
		AuthURL:          l.o.authURL,
		TokenURL:         l.o.tokenURL,
		RedirectMode:     l.redirectMode(),
		LoopbackPort:     l.loopbackPort(),
		PasteRedirectURI: l.o.redirectURL,
		Open:             l.open,
		Prompt:           l.e.stdin,
		Out:              l.e.stderr,
		HTTPClient:       l.http,
	})
}

func (l *login) openai(ctx context.Context, preset *presetClient) (*records.Record, error) {
	// openai.Login's port 0 is the registered port of OpenAI's clients.
	port := 0
	switch {
	case l.o.port == 0:
		port = openai.LoopbackAnyPort
	case l.o.port > 0:
		port = l.o.port
	case preset != nil:
		if c, ok := openai.Presets()[preset.Name]; ok && c.Port > 0 {
			port = c.Port
		}
	}
	return openai.Login(ctx, openai.LoginConfig{
		ClientID:     l.clientID,
		Issuer:       l.o.issuer,
		RedirectMode: l.redirectMode(),
		Port:         port,
		Open:         l.open,
		Prompt:       l.e.stdin,
		Out:          l.e.stderr,
		HTTPClient:   l.http,
	})
}

func (l *login) google(ctx context.Context) (*records.Record, error) {
	if l.o.device {
		return google.LoginDevice(ctx, google.DeviceConfig{
			ClientID:      l.clientID,
			ClientSecret:  l.o.clientSecret,
			DeviceAuthURL: l.o.deviceURL,
			TokenURL:      l.o.tokenURL,
			Open:          l.open,
			Out:           l.e.stderr,
			HTTPClient:    l.http,
		})
	}
	return google.Login(ctx, google.LoginConfig{
		ClientID:         l.clientID,
		ClientSecret:     l.o.clientSecret,
		AuthURL:          l.o.authURL,
		TokenURL:         l.o.tokenURL,
		RedirectMode:     l.redirectMode(),
		LoopbackPort:     l.loopbackPort(),
		PasteRedirectURI: l.o.redirectURL,
		Open:             l.open,
		Prompt:           l.e.stdin,
		Out:              l.e.stderr,
		HTTPClient:       l.http,
	})
}

func (l *login) copilot(ctx context.Context) (*records.Record, error) {
	opts := []copilot.Option{copilot.WithClientID(l.clientID)}
	if l.o.deviceURL != "" || l.o.tokenURL != "" || l.o.apiURL != "" {
		host, err := copilot.HostFor(l.id.Namespace)
		if err != nil {
			return nil, err
		}
		ep, err := copilot.EndpointsFor(host)
		if err != nil {
			return nil, err
		}
		if l.o.deviceURL != "" {
			ep.DeviceCodeURL = l.o.deviceURL
		}
		if l.o.tokenURL != "" {
			ep.AccessTokenURL = l.o.tokenURL
		}
		if l.o.apiURL != "" {
			ep.CopilotTokenURL = strings.TrimRight(l.o.apiURL, "/") + "/copilot_internal/v2/token"
		}
		opts = append(opts, copilot.WithEndpoints(host, ep))
	}
	return copilot.Login(ctx, l.http, l.id, l.e.stderr, opts...)
}

func (l *login) qwen(ctx context.Context) (*records.Record, error) {
	opts := []qwen.Option{qwen.WithClientID(l.clientID)}
	if l.o.deviceURL != "" {
		opts = append(opts, qwen.WithDeviceCodeURL(l.o.deviceURL))
	}
	if l.o.tokenURL != "" {
		opts = append(opts, qwen.WithTokenURL(l.o.tokenURL))
	}
	return qwen.Login(ctx, l.http, l.id, l.e.stderr, opts...)
}

// saveLogin checks and stores the record a login produced, replacing the
// account's credential if it was already there, and clears its
// needs-re-auth mark.
func saveLogin(e *env, v *vault.Vault, provider string, rec *records.Record) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("%s login: the provider's answer makes no valid record: %w", provider, err)
	}
	replaced, err := storeLogin(e.ctx, v, rec)
	if err != nil {
		return err
	}
	if replaced {
		e.notef("%s was already in the vault: its credential was replaced", rec.ID())
	}
	if err := clearReauth(e.ctx, v, rec.ID()); err != nil {
		return fmt.Errorf("the account is stored, but clearing its needs-re-auth flag failed (run: vaultkey accounts reset %s): %w", rec.ID(), err)
	}
	fmt.Fprintf(e.stdout, "logged in: %s\n", rec.ID())
	return nil
}
