package google

import (
	"fmt"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"

	"github.com/authvault/authvault/adapters"
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

// defaultScopes returns the scopes requested at login: Cloud Platform
// (Gemini through Vertex AI and Code Assist) and the account's email and
// profile.
func defaultScopes() []string {
	return []string{
		"https://www.googleapis.com/auth/cloud-platform",
		"https://www.googleapis.com/auth/userinfo.email",
		"https://www.googleapis.com/auth/userinfo.profile",
	}
}

// adapter implements adapters.Adapter for Google. It is immutable and
// safe for concurrent use.
type adapter struct {
	endpoint     oauth2.Endpoint
	clientID     string // for records that carry none
	clientSecret string // for clientID, when the record has none in Meta
	now          func() time.Time
}

// New returns the Google adapter, the one the package registers: Google's
// endpoints (golang.org/x/oauth2/endpoints.Google) and no client of its
// own (a record names the client its tokens were issued to).
func New() adapters.Adapter { return newAdapter() }

func newAdapter() *adapter {
	return &adapter{endpoint: defaultEndpoint, now: time.Now}
}

func init() { adapters.Register(New()) }

// Provider returns "google".
func (a *adapter) Provider() string { return ProviderID }

// defaultEndpoint is Google's OAuth endpoint set.
var defaultEndpoint = endpoints.Google

// Format implements fmt.Formatter: an adapter prints as its provider id,
// never its configuration (which may hold a client secret), whatever the
// verb.
func (a *adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *adapter) String() string { return "google.Adapter{" + a.Provider() + "}" }
