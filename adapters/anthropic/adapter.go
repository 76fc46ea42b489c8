package anthropic

import (
	"errors"
	"fmt"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/oauthflow"
)

// ProviderID is the provider id the adapter registers under.
const ProviderID = "anthropic"

// Endpoints and protocol values. The token endpoint has moved before
// (newer clients use https://platform.claude.com/v1/oauth/token): every
// URL is configurable.
const (
	DefaultBaseURL          = "https://api.anthropic.com"
	DefaultAuthURL          = "https://claude.ai/oauth/authorize"
	DefaultTokenURL         = "https://console.anthropic.com/v1/oauth/token"
	DefaultPasteRedirectURI = "https://console.anthropic.com/oauth/code/callback"
	// DefaultScope is the scope requested at login.
	DefaultScope = "org:create_api_key user:profile user:inference"
	// APIVersion is sent as anthropic-version when the caller set none.
	APIVersion = "2023-06-01"
	// OAuthBeta is the anthropic-beta flag that OAuth bearer requests need.
	OAuthBeta = "oauth-2025-04-20"
)

// Errors returned by Authorize and Refresh.
var (
	// ErrUnsupportedKind: the record's credential kind cannot be used with
	// this provider.
	ErrUnsupportedKind = errors.New("anthropic: unsupported credential kind")
	// ErrNoCredential: the record holds an empty key or token.
	ErrNoCredential = errors.New("anthropic: record holds no credential")
	// ErrNoRefreshToken: an OAuth record without a refresh token.
	ErrNoRefreshToken = oauthflow.ErrNoRefreshToken
)

// Adapter implements adapters.Adapter for Anthropic. It is immutable and
// safe for concurrent use.
type Adapter struct {
	tokenURL   string
	clientID   string
	apiVersion string
	now        func() time.Time
}

var _ adapters.Adapter = (*Adapter)(nil)

// Option configures New.
type Option func(*Adapter)

// WithTokenURL sets the token endpoint for records that name none
// (rec.OAuth.TokenURL wins).
func WithTokenURL(u string) Option { return func(a *Adapter) { a.tokenURL = u } }

// WithClientID sets the OAuth client id used to refresh records that
// carry none (imported from a file that does not record it). A record's
// own ClientID always wins: tokens are bound to the client they were
// issued to.
func WithClientID(id string) Option { return func(a *Adapter) { a.clientID = id } }

// WithAPIVersion sets the anthropic-version sent when the caller set none.
func WithAPIVersion(v string) Option { return func(a *Adapter) { a.apiVersion = v } }

// WithClock sets the clock Refresh computes expiry times with.
func WithClock(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// New returns an adapter with the documented defaults: DefaultTokenURL,
// APIVersion, and no client id of its own.
func New(opts ...Option) *Adapter {
	a := &Adapter{tokenURL: DefaultTokenURL, apiVersion: APIVersion, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

func init() { adapters.Register(New()) }

// Provider returns "anthropic".
func (a *Adapter) Provider() string { return ProviderID }

// Format implements fmt.Formatter: an Adapter prints as its provider id,
// never its configuration (which may hold a client secret), whatever the
// verb.
func (a *Adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *Adapter) String() string { return "anthropic.Adapter{" + a.Provider() + "}" }
