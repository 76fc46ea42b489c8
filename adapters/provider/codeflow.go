package provider

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Redirect is how the authorization code comes back to a login.
type Redirect int

const (
	// RedirectLoopback: a listener on 127.0.0.1 receives the browser's
	// redirect.
	RedirectLoopback Redirect = iota
	// RedirectPaste: the user pastes the code (or the URL of the page the
	// redirect reached) into the login's input. For machines without a
	// browser.
	RedirectPaste
)

// CodeFlow runs the authorization code grant with PKCE: Run up to the
// code, Exchange for the tokens.
type CodeFlow struct {
	Mode Redirect
	// LoopbackPort is the listener's port in RedirectLoopback; 0 picks a
	// free one (for clients registered with any loopback port).
	LoopbackPort int
	// LoopbackPath is the redirect path, e.g. "/callback".
	LoopbackPath string
	// LoopbackHost is the host written in the redirect URI; "" means
	// 127.0.0.1, where the listener binds. Some clients are registered
	// with "localhost".
	LoopbackHost string
	// PasteRedirectURI is the redirect_uri in RedirectPaste: a provider
	// page that shows the code, or a loopback URI nothing listens on (the
	// user then pastes the URL the browser failed to load).
	PasteRedirectURI string
	// PasteRequiresState refuses pastes that carry no state.
	PasteRequiresState bool
	// AuthURL, ClientID, Scope (space-separated) and AuthParams build the
	// authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3). AuthParams
	// are the provider's own parameters; the standard ones are set after
	// them, so AuthParams cannot replace those. A query AuthURL has is kept.
	AuthURL, ClientID, Scope string
	AuthParams               url.Values
	// AuthorizeURL, when set, builds the authorization request URL
	// instead (for a provider whose library builds it).
	AuthorizeURL func(redirectURI, state string, p PKCE) (string, error)
	// TokenURL is where Exchange sends the code. TokenJSON sends it as a
	// JSON body that also carries the state (Anthropic's form) instead of
	// a form.
	TokenURL  string
	TokenJSON bool
	// Open is given the authorization URL (to start a browser); nil, or
	// an error from it, leaves the user the printed URL.
	Open func(url string) error
	// In is read in RedirectPaste.
	In io.Reader
	// Out receives the instructions; nil discards them.
	Out io.Writer
}

// Grant is what the token exchange needs.
type Grant struct {
	Code        string
	State       string
	RedirectURI string
	PKCE        PKCE
}

// Run performs the user-facing part of the flow and returns the grant.
func (f *CodeFlow) Run(ctx context.Context) (*Grant, error) {
	authorizeURL := f.AuthorizeURL
	if authorizeURL == nil {
		if f.AuthURL == "" {
			return nil, errors.New("provider: CodeFlow has neither AuthURL nor AuthorizeURL")
		}
		authorizeURL = authRequest{Endpoint: f.AuthURL, ClientID: f.ClientID, Scope: f.Scope, Extra: f.AuthParams}.URL
	}
	out := f.Out
	if out == nil {
		out = io.Discard
	}
	g := &Grant{State: newState(), PKCE: NewPKCE()}
	var lb *loopbackListener
	switch f.Mode {
	case RedirectLoopback:
		var err error
		if lb, err = listenLoopback(loopbackConfig{Port: f.LoopbackPort, Path: f.LoopbackPath, RedirectHost: f.LoopbackHost}, g.State); err != nil {
			return nil, err
		}
		defer lb.Close()
		g.RedirectURI = lb.RedirectURI()
	case RedirectPaste:
		if f.PasteRedirectURI == "" {
			return nil, errors.New("paste mode needs a redirect URI that shows the code; this client has none")
		}
		if f.In == nil {
			return nil, errors.New("paste mode needs an input to read the code from")
		}
		g.RedirectURI = f.PasteRedirectURI
	default:
		return nil, fmt.Errorf("unknown redirect mode %d", f.Mode)
	}
	authURL, err := authorizeURL(g.RedirectURI, g.State, g.PKCE)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Open this URL in a browser to sign in:\n\n  %s\n\n", authURL)
	if f.Open != nil {
		if err := f.Open(authURL); err != nil {
			fmt.Fprintf(out, "Could not open a browser (%v); open the URL above yourself.\n", err)
		}
	}
	if lb != nil {
		fmt.Fprintln(out, "Waiting for the browser to come back…")
		code, err := lb.Wait(ctx)
		if err != nil {
			return nil, err
		}
		g.Code = code
		return g, nil
	}
	fmt.Fprint(out, "Paste the code shown after signing in (or the whole URL of the page): ")
	line, err := readLine(ctx, f.In)
	if err != nil {
		return nil, err
	}
	if g.Code, err = parsePasted(line, g.State, f.PasteRequiresState); err != nil {
		return nil, err
	}
	return g, nil
}

// Exchange trades the grant's code for tokens at TokenURL (RFC 6749
// §4.1.3, with the PKCE verifier of RFC 7636 §4.5). A refusal is a
// *TokenError.
func (f *CodeFlow) Exchange(ctx context.Context, client *http.Client, g *Grant) (*TokenResponse, error) {
	params := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {g.Code},
		"client_id":     {f.ClientID},
		"redirect_uri":  {g.RedirectURI},
		"code_verifier": {g.PKCE.Verifier},
	}
	if f.TokenJSON {
		params.Set("state", g.State)
	}
	return postToken(ctx, client, Request{URL: f.TokenURL, Params: params, JSON: f.TokenJSON})
}

// readLine reads one line from r, or returns when ctx ends. A reader that
// never answers (a terminal nobody types in) keeps one goroutine blocked
// on it until it does; the caller's process normally ends first.
func readLine(ctx context.Context, r io.Reader) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		br := bufio.NewReaderSize(io.LimitReader(r, maxPasted+2), 512)
		s, err := br.ReadString('\n')
		if err == io.EOF && s != "" {
			err = nil
		}
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return "", fmt.Errorf("reading the pasted code: %w", r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// authRequest is an authorization request with PKCE (RFC 6749 §4.1.1,
// RFC 7636 §4.3), as CodeFlow builds it from its fields.
type authRequest struct {
	// Endpoint is the authorization endpoint; a query it has is kept.
	Endpoint string
	ClientID string
	// Scope is the space-separated scope.
	Scope string
	// Extra are the provider's own parameters. The standard ones are set
	// after them, so Extra cannot replace those.
	Extra url.Values
}

// URL returns the authorization URL of one flow.
func (r authRequest) URL(redirectURI, state string, p PKCE) (string, error) {
	u, err := url.Parse(r.Endpoint)
	if err != nil {
		return "", fmt.Errorf("authorization URL: %w", err)
	}
	q := u.Query()
	for k, vs := range r.Extra {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("response_type", "code")
	q.Set("client_id", r.ClientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("scope", r.Scope)
	q.Set("code_challenge", p.Challenge)
	q.Set("code_challenge_method", PKCEMethod)
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
