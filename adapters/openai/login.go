package openai

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// DefaultLoopbackPort is the port of PresetCodex's registered redirect.
const DefaultLoopbackPort = 1455

// LoopbackAnyPort asks for any free port, for clients registered with
// any loopback port (RFC 8252 §7.3).
const LoopbackAnyPort = -1

// LoginConfig configures Login. ClientID is required; everything else
// has a default.
type LoginConfig struct {
	// ClientID is the OAuth client to log in with, e.g. PresetCodex.ID.
	// Required: there is no default client.
	ClientID string
	// Issuer is the authorization server; "" means DefaultIssuer. Its
	// /oauth/authorize and /oauth/token are used. A non-default issuer's
	// token URL is stored in the record for Refresh.
	Issuer string
	// Scope is the space-separated scope; "" means DefaultScope.
	Scope string
	// RedirectMode picks the loopback listener (127.0.0.1:Port receives
	// the browser's redirect to http://localhost:Port/auth/callback) or
	// the paste form: nothing listens; after signing in on any device the
	// browser fails to load the localhost redirect, and the user pastes
	// that page's URL (it holds the code and state) into Prompt.
	RedirectMode provider.Redirect
	// Port is the redirect's port: 0 means DefaultLoopbackPort (the
	// port the client registered must be used), LoopbackAnyPort any free
	// one.
	Port int
	// AuthParams are added to the authorization request; nil means
	// id_token_add_organizations=true, which asks for the ChatGPT
	// account claims in the id token.
	AuthParams url.Values
	// Open is called with the authorization URL, e.g. to start a
	// browser. The URL is always written to Out as well.
	Open func(url string) error
	// Prompt is read for the pasted redirect URL in RedirectPaste.
	Prompt io.Reader
	// Out receives instructions for the user; nil discards them.
	Out io.Writer
	// HTTPClient sends the code exchange; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock for the token's expiry; nil means time.Now.
	Now func() time.Time
}

// Login signs a ChatGPT account in with the authorization code flow and
// PKCE and returns an OAuth record: Provider "openai", the default
// namespace, Label set to the account's email from the id token (empty
// when absent: the caller must set one), the tokens and id token,
// AccountID from the id token's chatgpt_account_id, the client id (and a
// non-default token URL) for Refresh, and Meta "email" and "plan_type".
// The caller stores it; Login keeps nothing.
func Login(ctx context.Context, cfg LoginConfig) (*records.Record, error) {
	if cfg.ClientID == "" {
		return nil, provider.ErrClientIDRequired
	}
	issuer := strings.TrimRight(cmp.Or(cfg.Issuer, DefaultIssuer), "/")
	tokenURL := issuer + "/oauth/token"
	scope := cmp.Or(cfg.Scope, DefaultScope)
	port := cfg.Port
	switch {
	case port == 0:
		port = DefaultLoopbackPort
	case port == LoopbackAnyPort:
		port = 0
	case port < 0 || port > 65535:
		return nil, fmt.Errorf("openai: loopback port %d out of range", cfg.Port)
	}
	if cfg.RedirectMode == provider.RedirectPaste && port == 0 {
		return nil, fmt.Errorf("openai: the paste form needs the client's registered port, not any port")
	}
	params := cfg.AuthParams
	if params == nil {
		params = url.Values{"id_token_add_organizations": {"true"}}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	flow := &provider.CodeFlow{
		Mode:               cfg.RedirectMode,
		LoopbackPort:       port,
		LoopbackPath:       LoopbackPath,
		LoopbackHost:       "localhost",
		PasteRedirectURI:   fmt.Sprintf("http://localhost:%d%s", port, LoopbackPath),
		PasteRequiresState: true,
		AuthURL:            issuer + "/oauth/authorize",
		ClientID:           cfg.ClientID,
		Scope:              scope,
		AuthParams:         params,
		TokenURL:           tokenURL,
		Open:               cfg.Open,
		In:                 cfg.Prompt,
		Out:                cfg.Out,
	}
	g, err := flow.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("openai: login: %w", err)
	}
	tok, err := flow.Exchange(ctx, cfg.HTTPClient, g)
	if err != nil {
		return nil, fmt.Errorf("openai: exchanging the authorization code: %w", err)
	}
	rec := &records.Record{
		Provider:  ProviderID,
		Namespace: records.DefaultNamespace,
		Kind:      records.KindOAuth,
		OAuth:     &records.OAuth{ClientID: cfg.ClientID, Scopes: strings.Fields(scope)},
	}
	if tokenURL != DefaultTokenURL {
		rec.OAuth.TokenURL = tokenURL
	}
	applyToken(rec, tok, now())
	rec.Label = rec.Meta["email"]
	return rec, nil
}
