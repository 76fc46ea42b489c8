package anthropic

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// LoginConfig configures Login. ClientID is required; everything else
// has a default.
type LoginConfig struct {
	// ClientID is the OAuth client to log in with, e.g.
	// PresetClaudeCode.ID. Required: there is no default client.
	ClientID string
	// AuthURL is the authorization endpoint; "" means DefaultAuthURL.
	AuthURL string
	// TokenURL is the token endpoint; "" means DefaultTokenURL. A
	// non-default value is stored in the record for Refresh.
	TokenURL string
	// Scope is the space-separated scope; "" means DefaultScope.
	Scope string
	// RedirectMode picks the loopback listener (a listener on 127.0.0.1
	// receives the browser's redirect to http://localhost:PORT/callback)
	// or the paste form (Anthropic's code page shows "code#state" and the
	// user pastes it into Prompt; for machines without a browser).
	RedirectMode provider.Redirect
	// LoopbackPort is the listener's port; 0 picks a free one.
	LoopbackPort int
	// PasteRedirectURI is the code page for RedirectPaste; "" means
	// DefaultPasteRedirectURI.
	PasteRedirectURI string
	// Open is called with the authorization URL, e.g. to start a
	// browser. The URL is always written to Out as well.
	Open func(url string) error
	// Prompt is read for the pasted code in RedirectPaste.
	Prompt io.Reader
	// Out receives instructions for the user; nil discards them.
	Out io.Writer
	// HTTPClient sends the code exchange; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock for the token's expiry; nil means time.Now.
	Now func() time.Time
}

// Login signs an account in with the authorization code flow and PKCE
// and returns an OAuth record: Provider "anthropic", the default
// namespace, Label set to the account's email when Anthropic reports it
// (else empty: the caller must set one), the tokens, the account's uuid
// as AccountID, the client id (and a non-default token URL) for Refresh,
// and Meta "email", "organization_id", "organization_name" when known.
// The caller stores it; Login keeps nothing.
func Login(ctx context.Context, cfg LoginConfig) (*records.Record, error) {
	if cfg.ClientID == "" {
		return nil, provider.ErrClientIDRequired
	}
	tokenURL := cmp.Or(cfg.TokenURL, DefaultTokenURL)
	scope := cmp.Or(cfg.Scope, DefaultScope)
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	flow := &provider.CodeFlow{
		Mode:               cfg.RedirectMode,
		LoopbackPort:       cfg.LoopbackPort,
		LoopbackPath:       "/callback",
		LoopbackHost:       "localhost",
		PasteRedirectURI:   cmp.Or(cfg.PasteRedirectURI, DefaultPasteRedirectURI),
		PasteRequiresState: true,
		AuthURL:            cmp.Or(cfg.AuthURL, DefaultAuthURL),
		ClientID:           cfg.ClientID,
		Scope:              scope,
		AuthParams:         url.Values{"code": {"true"}},
		TokenURL:           tokenURL,
		TokenJSON:          true,
		Open:               cfg.Open,
		In:                 cfg.Prompt,
		Out:                cfg.Out,
	}
	g, err := flow.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("anthropic: login: %w", err)
	}
	tok, err := flow.Exchange(ctx, cfg.HTTPClient, g)
	if err != nil {
		return nil, fmt.Errorf("anthropic: exchanging the authorization code: %w", err)
	}
	rec := &records.Record{
		Provider:  ProviderID,
		Namespace: records.DefaultNamespace,
		Kind:      records.KindOAuth,
		OAuth:     &records.OAuth{ClientID: cfg.ClientID, Scopes: strings.Fields(scope)},
	}
	tok.Apply(rec.OAuth, now())
	if tokenURL != DefaultTokenURL {
		rec.OAuth.TokenURL = tokenURL
	}
	var account struct {
		UUID  string `json:"uuid"`
		Email string `json:"email_address"`
	}
	var org struct {
		UUID string `json:"uuid"`
		Name string `json:"name"`
	}
	_ = json.Unmarshal(tok.Extra["account"], &account)
	_ = json.Unmarshal(tok.Extra["organization"], &org)
	rec.OAuth.AccountID = provider.MetaValue(account.UUID)
	meta := map[string]string{}
	for k, v := range map[string]string{"email": account.Email, "organization_id": org.UUID, "organization_name": org.Name} {
		if v = provider.MetaValue(v); v != "" {
			meta[k] = v
		}
	}
	if len(meta) > 0 {
		rec.Meta = meta
	}
	rec.Label = meta["email"]
	return rec, nil
}
