package google

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// ErrDeviceFlowUnsupported: the client is a preset known not to be of
// the type Google's device flow accepts.
var ErrDeviceFlowUnsupported = errors.New("google: this OAuth client cannot use the device flow (it needs a \"TVs and Limited Input devices\" client)")

// LoginConfig configures Login. ClientID is required.
type LoginConfig struct {
	// ClientID is the OAuth client, e.g. PresetGeminiCLI.ID, or a desktop
	// client of your own Cloud project. Required.
	ClientID string
	// ClientSecret is the installed application's secret. "" for a
	// preset's id takes the preset's. Only an installed (desktop)
	// application's secret belongs here: Google treats those as public,
	// and Login stores it in the record's Meta for Refresh. Never pass a
	// web application's secret.
	ClientSecret string
	// AuthURL and TokenURL default to Google's (endpoints.Google). A
	// non-default TokenURL is stored in the record for Refresh.
	AuthURL, TokenURL string
	// Scopes default to Cloud Platform (Gemini through Vertex AI and Code
	// Assist) and the account's email and profile.
	Scopes []string
	// RedirectMode picks the loopback listener (127.0.0.1 receives the
	// browser's redirect to http://127.0.0.1:PORT/oauth2callback, as
	// Google's installed-application flow prescribes) or the paste form:
	// the client's code page shows the code and the user pastes it into
	// Prompt. Only clients registered with such a page; it shows the code
	// without the state, so the state cannot be checked: the user must
	// paste only codes from the URL Login printed.
	RedirectMode provider.Redirect
	// LoopbackPort is the listener's port; 0 picks a free one (Google
	// accepts any loopback port for desktop clients).
	LoopbackPort int
	// PasteRedirectURI is the code page for RedirectPaste; "" means the
	// preset's, if the client is one that has a code page.
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

// Login signs a Google account in with the installed-application flow
// (authorization code, PKCE S256, offline access, consent prompt so a
// refresh token is always issued) and returns an OAuth record: Provider
// "google", the default namespace, Label set to the account's email from
// the id token (else empty: the caller must set one), the tokens, the
// client id (and a non-default token URL), Meta "email", and
// Meta["client_secret"] for a client that is not a preset. The caller
// stores it; Login keeps nothing.
func Login(ctx context.Context, cfg LoginConfig) (*records.Record, error) {
	if cfg.ClientID == "" {
		return nil, provider.ErrClientIDRequired
	}
	preset, isPreset := presetByID(cfg.ClientID)
	secret := cfg.ClientSecret
	if secret == "" && isPreset {
		secret = preset.Secret
	}
	oc := &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: secret,
		Endpoint:     oauth2.Endpoint{AuthURL: cmp.Or(cfg.AuthURL, defaultEndpoint.AuthURL), TokenURL: cmp.Or(cfg.TokenURL, defaultEndpoint.TokenURL), AuthStyle: oauth2.AuthStyleInParams},
		Scopes:       cfg.Scopes,
	}
	if len(oc.Scopes) == 0 {
		oc.Scopes = defaultScopes()
	}
	paste := cfg.PasteRedirectURI
	if paste == "" && isPreset {
		paste = preset.PasteRedirectURI
	}
	flow := &provider.CodeFlow{
		Mode:             cfg.RedirectMode,
		LoopbackPort:     cfg.LoopbackPort,
		LoopbackPath:     LoopbackPath,
		PasteRedirectURI: paste,
		Open:             cfg.Open,
		In:               cfg.Prompt,
		Out:              cfg.Out,
		AuthorizeURL: func(redirectURI, state string, p provider.PKCE) (string, error) {
			c := *oc
			c.RedirectURL = redirectURI
			return c.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(p.Verifier),
				oauth2.SetAuthURLParam("prompt", "consent")), nil
		},
	}
	g, err := flow.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("google: login: %w", err)
	}
	oc.RedirectURL = g.RedirectURI
	tok, err := oc.Exchange(withClient(ctx, cfg.HTTPClient), g.Code, oauth2.VerifierOption(g.PKCE.Verifier))
	if err != nil {
		return nil, fmt.Errorf("google: exchanging the authorization code: %w", provider.FromRetrieveError(err, g.Code, g.PKCE.Verifier, secret))
	}
	return newRecord(cfg.ClientID, secret, isPreset, oc, tok, clockOr(cfg.Now)), nil
}

// DeviceConfig configures LoginDevice. ClientID is required.
type DeviceConfig struct {
	// ClientID and ClientSecret are a "TVs and Limited Input devices"
	// client's; Google's device flow accepts no other type.
	ClientID, ClientSecret string
	// DeviceAuthURL and TokenURL default to Google's.
	DeviceAuthURL, TokenURL string
	// Scopes default to Cloud Platform (Gemini through Vertex AI and Code
	// Assist) and the account's email and profile. Google's device flow allows
	// only some scopes (email, profile, openid, Drive files, YouTube…);
	// check the client's.
	Scopes []string
	// Open is called with the verification URL. The URL and the user
	// code are always written to Out as well.
	Open func(url string) error
	// Out receives the instructions; nil discards them.
	Out io.Writer
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits between polls; nil means a real timer. Tests inject
	// one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

// LoginDevice signs an account in with the device authorization grant
// (RFC 8628): it shows a URL and a code, polls while the user approves
// on any device (honouring authorization_pending and slow_down), and
// returns the same record as Login.
func LoginDevice(ctx context.Context, cfg DeviceConfig) (*records.Record, error) {
	if cfg.ClientID == "" {
		return nil, provider.ErrClientIDRequired
	}
	preset, isPreset := presetByID(cfg.ClientID)
	if isPreset && !preset.DeviceFlow {
		return nil, ErrDeviceFlowUnsupported
	}
	secret := cfg.ClientSecret
	if secret == "" && isPreset {
		secret = preset.Secret
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = defaultScopes()
	}
	clock := clockOr(cfg.Now)
	tokenURL := cmp.Or(cfg.TokenURL, defaultEndpoint.TokenURL)
	dc, err := provider.RequestDeviceCode(ctx, cfg.HTTPClient, provider.Request{
		URL:    cmp.Or(cfg.DeviceAuthURL, defaultEndpoint.DeviceAuthURL),
		Params: url.Values{"client_id": {cfg.ClientID}, "scope": {strings.Join(scopes, " ")}},
	})
	if err != nil {
		return nil, fmt.Errorf("google: device authorization: %w", err)
	}
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	fmt.Fprintf(out, "To sign in, open %s and enter the code %s\n", dc.VerificationURI, dc.UserCode)
	if cfg.Open != nil {
		if err := cfg.Open(dc.VerificationURI); err != nil {
			fmt.Fprintf(out, "Could not open a browser (%v); open the URL above yourself.\n", err)
		}
	}
	start := clock()
	var deadline time.Time
	if dc.ExpiresIn > 0 {
		deadline = start.Add(dc.ExpiresIn)
	}
	params := url.Values{
		"grant_type":  {provider.DeviceGrantType},
		"device_code": {dc.DeviceCode.Reveal()},
		"client_id":   {cfg.ClientID},
	}
	if secret != "" {
		params.Set("client_secret", secret)
	}
	tr, err := provider.PollDeviceToken(ctx, cfg.HTTPClient, provider.DevicePoll{
		Request:  provider.Request{URL: tokenURL, Params: params},
		Interval: dc.Interval,
		Deadline: deadline,
		Now:      clock,
		Sleep:    cfg.Sleep,
	})
	if err != nil {
		return nil, fmt.Errorf("google: device login: %w", err)
	}
	tok := &oauth2.Token{AccessToken: tr.AccessToken.Reveal(), RefreshToken: tr.RefreshToken.Reveal(), TokenType: tr.TokenType, ExpiresIn: int64(tr.ExpiresIn / time.Second)}
	extra := map[string]any{"scope": tr.Scope}
	if !tr.IDToken.IsZero() {
		extra["id_token"] = tr.IDToken.Reveal()
	}
	tok = tok.WithExtra(extra)
	oc := &oauth2.Config{Scopes: scopes, Endpoint: oauth2.Endpoint{TokenURL: tokenURL}}
	return newRecord(cfg.ClientID, secret, isPreset, oc, tok, clock), nil
}

// newRecord builds the record both logins return.
func newRecord(clientID, secret string, isPreset bool, oc *oauth2.Config, tok *oauth2.Token, clock func() time.Time) *records.Record {
	rec := &records.Record{
		Provider:  ProviderID,
		Namespace: records.DefaultNamespace,
		Kind:      records.KindOAuth,
		OAuth:     &records.OAuth{ClientID: clientID, Scopes: append([]string(nil), oc.Scopes...)},
	}
	if oc.Endpoint.TokenURL != defaultEndpoint.TokenURL {
		rec.OAuth.TokenURL = oc.Endpoint.TokenURL
	}
	applyToken(rec, tok, clock())
	if secret != "" && !isPreset {
		if rec.Meta == nil {
			rec.Meta = map[string]string{}
		}
		rec.Meta[MetaClientSecret] = secret
	}
	rec.Label = rec.Meta[MetaEmail]
	return rec
}

func withClient(ctx context.Context, c *http.Client) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, c)
}

func clockOr(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}

func splitScope(s string) []string {
	return strings.Fields(s)
}
