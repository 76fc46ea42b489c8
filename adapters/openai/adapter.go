package openai

import (
	"fmt"
	"time"

	"github.com/authvault/authvault/adapters"
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

// adapter implements adapters.Adapter for OpenAI. It is immutable and
// safe for concurrent use.
type adapter struct {
	tokenURL string
	clientID string // for records that carry none
	now      func() time.Time
}

// New returns the OpenAI adapter, the one the package registers:
// DefaultTokenURL for records that name no token endpoint, and no client
// id of its own (a record names the client its tokens were issued to).
func New() adapters.Adapter { return newAdapter() }

func newAdapter() *adapter {
	return &adapter{tokenURL: DefaultTokenURL, now: time.Now}
}

func init() { adapters.Register(New()) }

// Provider returns "openai".
func (a *adapter) Provider() string { return ProviderID }

// Format implements fmt.Formatter: an adapter prints as its provider id,
// never its configuration, whatever the verb.
func (a *adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *adapter) String() string { return "openai.Adapter{" + a.Provider() + "}" }
