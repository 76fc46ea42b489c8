package anthropic

import (
	"fmt"
	"time"

	"github.com/authvault/authvault/adapters"
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

// adapter implements adapters.Adapter for Anthropic. It is immutable and
// safe for concurrent use.
type adapter struct {
	tokenURL   string
	clientID   string // for records that carry none
	apiVersion string
	now        func() time.Time
}

// New returns the Anthropic adapter, the one the package registers:
// DefaultTokenURL for records that name no token endpoint, APIVersion,
// and no client id of its own (a record names the client its tokens were
// issued to).
func New() adapters.Adapter { return newAdapter() }

func newAdapter() *adapter {
	return &adapter{tokenURL: DefaultTokenURL, apiVersion: APIVersion, now: time.Now}
}

func init() { adapters.Register(New()) }

// Provider returns "anthropic".
func (a *adapter) Provider() string { return ProviderID }

// Format implements fmt.Formatter: an adapter prints as its provider id,
// never its configuration, whatever the verb.
func (a *adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *adapter) String() string { return "anthropic.Adapter{" + a.Provider() + "}" }
