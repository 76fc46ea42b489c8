package records

import (
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// Kind says which credential fields a record holds.
type Kind string

// The credential kinds.
const (
	KindOAuth     Kind = "oauth"     // access + refresh token pair
	KindAPI       Kind = "api"       // a static API key
	KindWellKnown Kind = "wellknown" // a token for a well-known auth URL
)

// OAuth holds an OAuth 2.0 token set and what is needed to refresh it.
type OAuth struct {
	Access    Secret
	Refresh   Secret
	Expiry    time.Time // zero: unknown
	AccountID string    // the provider's account id, when it gives one
	IDToken   Secret
	Scopes    []string
	// ClientID is the OAuth client the tokens were issued to: a refresh
	// must use the same one.
	ClientID string
	// TokenURL overrides the provider's default token endpoint.
	TokenURL string
	// ClientSecret is a confidential client's secret, for a custom
	// provider's refresh (sent with HTTP Basic authentication). Empty
	// for a public client.
	ClientSecret Secret
}

// APIKey is a static key.
type APIKey struct {
	Key Secret
}

// WellKnown is a token obtained from a provider's well-known auth URL.
type WellKnown struct {
	Key   string // the well-known entry's key (an env variable name or URL)
	Token Secret
}

// Record is one account's credential.
//
// Exactly one of OAuth, API and WellKnown is set, matching Kind. Meta holds
// non-secret, provider-specific facts (project id, resource URL, plan,
// email). Created, Updated and Generation are maintained by the vault.
type Record struct {
	Provider  string
	Namespace string
	Label     string
	Kind      Kind

	OAuth     *OAuth
	API       *APIKey
	WellKnown *WellKnown

	Meta map[string]string

	// Position and Disabled are the operator's decisions about the
	// account, sealed with its credential so that they survive a damaged
	// pool state and travel with backups and copies.
	//
	// Position is the account's place in its pool's order, from 1. Zero
	// means not placed: after every placed account, oldest first.
	Position int
	// Disabled, when set, says an operator took the account out of
	// service, why and when.
	Disabled *Disabled

	Created    time.Time
	Updated    time.Time
	Generation uint64
}

// Disabled is an operator's decision to keep an account out of service.
type Disabled struct {
	Reason string
	At     time.Time
}

// ID returns the record's provider/namespace/label.
func (r *Record) ID() ID { return ID{Provider: r.Provider, Namespace: r.Namespace, Label: r.Label} }

// Validate checks the ID and that the credential fields match the kind.
func (r *Record) Validate() error {
	if err := r.ID().Validate(); err != nil {
		return err
	}
	set := 0
	for _, b := range []bool{r.OAuth != nil, r.API != nil, r.WellKnown != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("%w: record %s has %d credential sections, want exactly 1", ErrInvalidRecord, r.ID(), set)
	}
	ok := r.Kind == KindOAuth && r.OAuth != nil || r.Kind == KindAPI && r.API != nil || r.Kind == KindWellKnown && r.WellKnown != nil
	if !ok {
		return fmt.Errorf("%w: record %s: kind %q does not match its credential section", ErrInvalidRecord, r.ID(), r.Kind)
	}
	if r.Position < 0 {
		return fmt.Errorf("%w: record %s: negative position", ErrInvalidRecord, r.ID())
	}
	if len(r.Meta) > maxMetaEntries {
		return fmt.Errorf("%w: record %s: more than %d meta entries", ErrInvalidRecord, r.ID(), maxMetaEntries)
	}
	// Never say which field is not valid UTF-8: it may be a secret.
	bad := !utf8.ValidString(string(r.Kind))
	if r.Disabled != nil {
		bad = bad || !utf8.ValidString(r.Disabled.Reason)
	}
	for k, v := range r.Meta {
		bad = bad || !utf8.ValidString(k) || !utf8.ValidString(v)
	}
	switch {
	case r.OAuth != nil:
		o := r.OAuth
		bad = bad || !utf8.ValidString(string(o.Access)) || !utf8.ValidString(string(o.Refresh)) ||
			!utf8.ValidString(string(o.IDToken)) || !utf8.ValidString(o.AccountID) ||
			!utf8.ValidString(o.ClientID) || !utf8.ValidString(o.TokenURL) || !utf8.ValidString(string(o.ClientSecret))
		for _, sc := range o.Scopes {
			bad = bad || !utf8.ValidString(sc)
		}
	case r.API != nil:
		bad = bad || !utf8.ValidString(string(r.API.Key))
	case r.WellKnown != nil:
		bad = bad || !utf8.ValidString(r.WellKnown.Key) || !utf8.ValidString(string(r.WellKnown.Token))
	}
	if bad {
		return fmt.Errorf("%w: record %s holds a string that is not valid UTF-8", ErrInvalidRecord, r.ID())
	}
	return nil
}

// Clone returns a deep copy.
func (r *Record) Clone() *Record {
	if r == nil {
		return nil
	}
	c := *r
	if r.OAuth != nil {
		o := *r.OAuth
		o.Scopes = slices.Clone(r.OAuth.Scopes)
		c.OAuth = &o
	}
	if r.API != nil {
		a := *r.API
		c.API = &a
	}
	if r.WellKnown != nil {
		w := *r.WellKnown
		c.WellKnown = &w
	}
	c.Meta = maps.Clone(r.Meta)
	if r.Disabled != nil {
		d := *r.Disabled
		c.Disabled = &d
	}
	return &c
}

// Secrets returns the credential values r holds: an OAuth account's
// access, refresh and ID tokens and client secret, or its API key or well-known token, then
// empty Secrets. It makes no allocation: code that keeps credentials out
// of logs and errors checks every answer against it.
func (r *Record) Secrets() [4]Secret {
	switch {
	case r.OAuth != nil:
		return [4]Secret{r.OAuth.Access, r.OAuth.Refresh, r.OAuth.IDToken, r.OAuth.ClientSecret}
	case r.API != nil:
		return [4]Secret{r.API.Key}
	case r.WellKnown != nil:
		return [4]Secret{r.WellKnown.Token}
	}
	return [4]Secret{}
}

// AccessToken returns the token a request is authorized with: the OAuth
// access token, the API key or the well-known token.
func (r *Record) AccessToken() Secret {
	switch {
	case r.OAuth != nil:
		return r.OAuth.Access
	case r.API != nil:
		return r.API.Key
	case r.WellKnown != nil:
		return r.WellKnown.Token
	}
	return ""
}
