package oauthflow

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
)

// Mode is how the authorization code comes back.
type Mode int

const (
	// ModeLoopback: a listener on 127.0.0.1 receives the redirect.
	ModeLoopback Mode = iota
	// ModePaste: the user pastes the code (or the redirect URL) into In.
	ModePaste
)

// CodeFlow runs the authorization code grant with PKCE up to the code.
// The caller exchanges the Grant at its token endpoint, since token
// request shapes differ between providers.
type CodeFlow struct {
	Mode Mode
	// Loopback configures the listener in ModeLoopback.
	Loopback LoopbackConfig
	// PasteRedirectURI is the redirect_uri in ModePaste: a provider page
	// that shows the code, or a loopback URI nothing listens on (the user
	// then pastes the URL the browser failed to load).
	PasteRedirectURI string
	// PasteRequiresState refuses pastes that carry no state.
	PasteRequiresState bool
	// AuthorizeURL builds the authorization request URL.
	AuthorizeURL func(redirectURI, state string, p PKCE) (string, error)
	// Open is given the authorization URL (to start a browser); nil, or
	// an error from it, leaves the user the printed URL.
	Open func(url string) error
	// In is read in ModePaste.
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
	if f.AuthorizeURL == nil {
		return nil, errors.New("oauthflow: CodeFlow.AuthorizeURL is nil")
	}
	out := f.Out
	if out == nil {
		out = io.Discard
	}
	g := &Grant{State: NewState(), PKCE: NewPKCE()}
	var lb *Loopback
	switch f.Mode {
	case ModeLoopback:
		var err error
		if lb, err = ListenLoopback(f.Loopback, g.State); err != nil {
			return nil, err
		}
		defer lb.Close()
		g.RedirectURI = lb.RedirectURI()
	case ModePaste:
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
	authURL, err := f.AuthorizeURL(g.RedirectURI, g.State, g.PKCE)
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
	if g.Code, err = ParsePasted(line, g.State, f.PasteRequiresState); err != nil {
		return nil, err
	}
	return g, nil
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

// AuthRequest is an authorization request with PKCE (RFC 6749 §4.1.1,
// RFC 7636 §4.3), as the adapters that build it themselves send it.
type AuthRequest struct {
	// Endpoint is the authorization endpoint; a query it has is kept.
	Endpoint string
	ClientID string
	// Scope is the space-separated scope.
	Scope string
	// Extra are the provider's own parameters. The standard ones are set
	// after them, so Extra cannot replace those.
	Extra url.Values
}

// URL returns the authorization URL of one flow. It fits
// CodeFlow.AuthorizeURL.
func (r AuthRequest) URL(redirectURI, state string, p PKCE) (string, error) {
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
	q.Set("code_challenge_method", Method)
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
