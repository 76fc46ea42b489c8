package google

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/oauthflow"
)

// ProviderID is the provider id the adapter registers under.
const ProviderID = "google"

// Endpoints and values; every URL is configurable.
const (
	DefaultBaseURL = "https://generativelanguage.googleapis.com"
	// CodeAssistBaseURL is the Code Assist API, which OAuth accounts of
	// Gemini Code Assist use with the project id in the request body.
	CodeAssistBaseURL = "https://cloudcode-pa.googleapis.com/v1internal"
	// LoopbackPath is the redirect path of the loopback listener.
	LoopbackPath = "/oauth2callback"
)

// Meta keys.
const (
	// MetaProjectID holds a Code Assist account's Cloud project id.
	MetaProjectID = "project_id"
	// MetaClientSecret holds an installed application's client secret,
	// which Google does not treat as confidential.
	MetaClientSecret = "client_secret"
	// MetaEmail holds the account's email.
	MetaEmail = "email"
)

// DefaultScopes returns the scopes requested at login: Cloud Platform
// (Gemini through Vertex AI and Code Assist) and the account's email and
// profile.
func DefaultScopes() []string {
	return []string{
		"https://www.googleapis.com/auth/cloud-platform",
		"https://www.googleapis.com/auth/userinfo.email",
		"https://www.googleapis.com/auth/userinfo.profile",
	}
}

// Errors returned by Authorize and Refresh.
var (
	// ErrUnsupportedKind: the record's credential kind cannot be used with
	// this provider.
	ErrUnsupportedKind = errors.New("google: unsupported credential kind")
	// ErrNoCredential: the record holds an empty key or token.
	ErrNoCredential = errors.New("google: record holds no credential")
	// ErrNoRefreshToken: an OAuth record without a refresh token.
	ErrNoRefreshToken = oauthflow.ErrNoRefreshToken
)

// Adapter implements adapters.Adapter for Google. It is immutable and
// safe for concurrent use.
type Adapter struct {
	endpoint     oauth2.Endpoint
	clientID     string
	clientSecret string
	now          func() time.Time
}

var _ adapters.Adapter = (*Adapter)(nil)

// Option configures New.
type Option func(*Adapter)

// WithTokenURL sets the token endpoint for records that name none
// (rec.OAuth.TokenURL wins).
func WithTokenURL(u string) Option { return func(a *Adapter) { a.endpoint.TokenURL = u } }

// WithClient sets the OAuth client used to refresh records that carry
// no client id, and the secret used for that client id when the record
// has none in Meta. A record's own ClientID always wins.
func WithClient(id, secret string) Option {
	return func(a *Adapter) { a.clientID, a.clientSecret = id, secret }
}

// WithClock sets the clock Refresh computes expiry times with.
func WithClock(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// New returns an adapter with Google's endpoints
// (golang.org/x/oauth2/endpoints.Google) and no client of its own.
func New(opts ...Option) *Adapter {
	a := &Adapter{endpoint: defaultEndpoint, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

func init() { adapters.Register(New()) }

// Provider returns "google".
func (a *Adapter) Provider() string { return ProviderID }

// defaultEndpoint is Google's OAuth endpoint set.
var defaultEndpoint = endpoints.Google

// Format implements fmt.Formatter: an Adapter prints as its provider id,
// never its configuration (which may hold a client secret), whatever the
// verb.
func (a *Adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *Adapter) String() string { return "google.Adapter{" + a.Provider() + "}" }
