package openai

import (
	"errors"
	"fmt"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/oauthflow"
)

// ProviderID is the provider id the adapter registers under.
const ProviderID = "openai"

// Endpoints and protocol values; every URL is configurable.
const (
	DefaultBaseURL  = "https://api.openai.com/v1"
	DefaultIssuer   = "https://auth.openai.com"
	DefaultAuthURL  = DefaultIssuer + "/oauth/authorize"
	DefaultTokenURL = DefaultIssuer + "/oauth/token"
	// DefaultScope is the scope requested at login.
	DefaultScope = "openid profile email offline_access"
	// LoopbackPath is the redirect path of the loopback listener.
	LoopbackPath = "/auth/callback"
	// AccountIDHeader carries the ChatGPT account (workspace) id.
	AccountIDHeader = "chatgpt-account-id"
)

// Meta keys read by Authorize for API-key records.
const (
	MetaOrganization = "organization"
	MetaProject      = "project"
)

// Errors returned by Authorize and Refresh.
var (
	// ErrUnsupportedKind: the record's credential kind cannot be used with
	// this provider.
	ErrUnsupportedKind = errors.New("openai: unsupported credential kind")
	// ErrNoCredential: the record holds an empty key or token.
	ErrNoCredential = errors.New("openai: record holds no credential")
	// ErrNoRefreshToken: an OAuth record without a refresh token.
	ErrNoRefreshToken = oauthflow.ErrNoRefreshToken
)

// Adapter implements adapters.Adapter for OpenAI. It is immutable and
// safe for concurrent use.
type Adapter struct {
	tokenURL string
	clientID string
	now      func() time.Time
}

var _ adapters.Adapter = (*Adapter)(nil)

// Option configures New.
type Option func(*Adapter)

// WithTokenURL sets the token endpoint for records that name none
// (rec.OAuth.TokenURL wins).
func WithTokenURL(u string) Option { return func(a *Adapter) { a.tokenURL = u } }

// WithClientID sets the OAuth client id used to refresh records that
// carry none. A record's own ClientID always wins.
func WithClientID(id string) Option { return func(a *Adapter) { a.clientID = id } }

// WithClock sets the clock Refresh computes expiry times with.
func WithClock(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// New returns an adapter with the documented defaults: DefaultTokenURL
// and no client id of its own.
func New(opts ...Option) *Adapter {
	a := &Adapter{tokenURL: DefaultTokenURL, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

func init() { adapters.Register(New()) }

// Provider returns "openai".
func (a *Adapter) Provider() string { return ProviderID }

// Format implements fmt.Formatter: an Adapter prints as its provider id,
// never its configuration (which may hold a client secret), whatever the
// verb.
func (a *Adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *Adapter) String() string { return "openai.Adapter{" + a.Provider() + "}" }
