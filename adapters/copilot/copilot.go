package copilot

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// Provider is the provider id the adapter serves.
const Provider = "copilot"

// Meta keys the adapter maintains.
const (
	// MetaAPIEndpoint is the account's API base URL from the token exchange.
	MetaAPIEndpoint = "api_endpoint"
	// MetaPlan is the Copilot SKU from the token exchange.
	MetaPlan = "plan"
)

// Defaults, each changeable with an option.
const (
	// DefaultHost is the GitHub host of the "default" namespace.
	DefaultHost = "github.com"
	// DefaultAPIURL is the Copilot API base SDKs should be pointed at;
	// Authorize moves each request to its account's own endpoint.
	DefaultAPIURL = "https://api.githubcopilot.com"
	// DefaultIntegrationID is the Copilot-Integration-Id sent by default.
	DefaultIntegrationID = "authvault"
	// Scope is the OAuth scope a login asks for.
	Scope = "read:user"
)

// GitHubCopilotClientID is the GitHub App that GitHub's own Copilot editor
// integrations sign users in with. It belongs to GitHub, not to authvault:
// use it only by choosing the "github-copilot" preset. Applications should
// register their own OAuth app and use WithClientID.
const GitHubCopilotClientID = "Iv1.b507a08c87ecfe98"

var presets = map[string]string{"github-copilot": GitHubCopilotClientID}

// Preset returns the client id of a named public client: "github-copilot"
// is GitHub's Copilot editor client.
func Preset(name string) (clientID string, ok bool) {
	id, ok := presets[name]
	return id, ok
}

// ErrNoCopilotAccess is wrapped by the refresh error of a GitHub token that
// may not obtain Copilot tokens: the account has no Copilot seat, or the
// token was issued to a client GitHub does not let exchange it.
var ErrNoCopilotAccess = errors.New("the GitHub account has no Copilot access")

// ErrBadHost is returned for a namespace that is not a GitHub host name.
var ErrBadHost = errors.New("namespace is not a GitHub host name")

// Endpoints are the URLs of one GitHub host.
type Endpoints struct {
	DeviceCodeURL   string // https://HOST/login/device/code
	AccessTokenURL  string // https://HOST/login/oauth/access_token
	CopilotTokenURL string // https://api.HOST/copilot_internal/v2/token
}

// EndpointsFor returns the endpoints of a GitHub host: github.com, or a
// GitHub Enterprise Cloud host with data residency (NAME.ghe.com), whose API
// lives on the api. subdomain as github.com's does. GitHub Enterprise
// Server, whose API lives under /api/v3 on the host itself, and proxies
// need WithEndpoints.
func EndpointsFor(host string) (Endpoints, error) {
	if err := validHost(host); err != nil {
		return Endpoints{}, err
	}
	return Endpoints{
		DeviceCodeURL:   "https://" + host + "/login/device/code",
		AccessTokenURL:  "https://" + host + "/login/oauth/access_token",
		CopilotTokenURL: "https://api." + host + "/copilot_internal/v2/token",
	}, nil
}

// HostFor returns the GitHub host of a record namespace: DefaultHost for
// "default" (or empty), else the namespace itself, which must be a host name.
func HostFor(namespace string) (string, error) {
	if namespace == "" || namespace == records.DefaultNamespace {
		return DefaultHost, nil
	}
	if err := validHost(namespace); err != nil {
		return "", err
	}
	return namespace, nil
}

// validHost checks a GitHub host name: lower-case labels of letters,
// digits and inner hyphens, dot-separated, with an optional port, as the
// importers write them.
func validHost(h string) error {
	bad := func() error { return fmt.Errorf("%w: %q", ErrBadHost, h) }
	name, port, hasPort := strings.Cut(h, ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return bad()
		}
	}
	if len(name) == 0 || len(name) > 253 {
		return bad()
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad()
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return bad()
			}
		}
	}
	return nil
}

// adapter is the Copilot adapter. Safe for concurrent use.
type adapter struct {
	err error
	// device is the login's client, poll cadence, clock and User-Agent;
	// the token exchange uses the same clock and User-Agent.
	device        provider.DeviceLogin
	hosts         map[string]Endpoints
	apiBase       *url.URL
	integrationID string
	editorVersion string
}

// Option configures New and Login.
type Option func(*adapter) error

// WithClientID sets the OAuth client used by Login: your own OAuth app,
// or GitHub's (see Preset), chosen knowingly.
func WithClientID(id string) Option {
	return func(a *adapter) error {
		if strings.TrimSpace(id) == "" {
			return &provider.ConfigError{Option: "WithClientID", Reason: "empty client id"}
		}
		a.device.ClientID = id
		return nil
	}
}

// WithEndpoints replaces the endpoints of one GitHub host (for example a
// proxy, or a test server). Every URL must be https, or http on a loopback
// host.
func WithEndpoints(host string, e Endpoints) Option {
	return func(a *adapter) error {
		for _, u := range []string{e.DeviceCodeURL, e.AccessTokenURL, e.CopilotTokenURL} {
			if _, err := provider.ParseBaseURL(u, true); err != nil {
				return &provider.ConfigError{Option: "WithEndpoints", Reason: err.Error()}
			}
		}
		a.hosts[host] = e
		return nil
	}
}

// WithIntegrationID sets the Copilot-Integration-Id header: the integration
// id GitHub issued to the application. Default DefaultIntegrationID.
func WithIntegrationID(id string) Option {
	return headerOption("WithIntegrationID", id, func(a *adapter) { a.integrationID = id })
}

// WithEditorVersion sets the Editor-Version header, naming the application
// and its version ("myapp/1.2.0"). Default "authvault/<version>".
func WithEditorVersion(v string) Option {
	return headerOption("WithEditorVersion", v, func(a *adapter) { a.editorVersion = v })
}

func headerOption(name, v string, set func(*adapter)) Option {
	return func(a *adapter) error {
		if strings.TrimSpace(v) == "" || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return &provider.ConfigError{Option: name, Reason: "empty or not a valid header value"}
		}
		set(a)
		return nil
	}
}

// WithClock sets the clock. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(a *adapter) error {
		if now == nil {
			return &provider.ConfigError{Option: "WithClock", Reason: "nil clock"}
		}
		a.device.Now = now
		return nil
	}
}

func init() { adapters.Register(New()) }

// New returns an adapter with the given options. An option given an
// unusable value makes every method return that *provider.ConfigError.
func New(opts ...Option) adapters.Adapter { return newAdapter(opts...) }

func newAdapter(opts ...Option) *adapter {
	api, _ := url.Parse(DefaultAPIURL)
	a := &adapter{
		device: provider.DeviceLogin{
			Provider:  Provider,
			UserAgent: provider.DefaultUserAgent(),
			Interval:  5 * time.Second,
			SlowDown:  githubSlowDown,
			Now:       time.Now,
		},
		hosts:         map[string]Endpoints{},
		apiBase:       api,
		integrationID: DefaultIntegrationID,
		editorVersion: provider.DefaultUserAgent(),
	}
	for _, o := range opts {
		if err := o(a); err != nil && a.err == nil {
			a.err = err
		}
	}
	return a
}

// Provider returns "copilot".
func (a *adapter) Provider() string { return Provider }

func (a *adapter) endpoints(namespace string) (Endpoints, error) {
	host, err := HostFor(namespace)
	if err != nil {
		return Endpoints{}, err
	}
	if e, ok := a.hosts[host]; ok {
		return e, nil
	}
	return EndpointsFor(host)
}

func (a *adapter) check(rec *records.Record) error {
	if a.err != nil {
		return a.err
	}
	if rec == nil {
		return fmt.Errorf("%s: nil record", Provider)
	}
	if rec.Provider != Provider {
		return fmt.Errorf("%s: record %s: %w", Provider, rec.ID(), provider.ErrWrongProvider)
	}
	if rec.OAuth == nil {
		return fmt.Errorf("%s: record %s is %q, want an OAuth record", Provider, rec.ID(), rec.Kind)
	}
	return nil
}

// Authorize sends the Copilot token as a bearer token with the
// Copilot-Integration-Id and Editor-Version headers, and points a request
// addressed to the API URL (DefaultAPIURL) at the account's own base URL
// (Meta["base_url"]) or else its API endpoint (Meta["api_endpoint"];
// requests are left where they are when the record has neither). A record whose Copilot token has not
// been obtained yet gets provider.ErrNoCredential: Refresh it.
func (a *adapter) Authorize(req *http.Request, rec *records.Record) error {
	if err := a.check(rec); err != nil {
		return err
	}
	if err := provider.SetBearer(req, rec.OAuth.Access); err != nil {
		return fmt.Errorf("%s: %s: %w", Provider, rec.ID(), err)
	}
	req.Header.Set("Copilot-Integration-Id", a.integrationID)
	req.Header.Set("Editor-Version", a.editorVersion)
	if rec.Meta[adapters.MetaBaseURL] != "" {
		if err := provider.RebaseAccount(req, rec, a.apiBase); err != nil {
			return fmt.Errorf("%s: %w", Provider, err)
		}
		return nil
	}
	to, err := apiEndpoint(rec)
	if err != nil {
		return err
	}
	provider.RebaseRequest(req, a.apiBase, to)
	return nil
}

// apiEndpoint returns the account's API endpoint from the token exchange,
// nil when the record has none yet.
func apiEndpoint(rec *records.Record) (*url.URL, error) {
	raw := rec.Meta[MetaAPIEndpoint]
	if raw == "" {
		return nil, nil
	}
	u, err := provider.ParseBaseURL(raw, true)
	if err != nil {
		return nil, fmt.Errorf("%s: record %s: Meta[%q]: %w", Provider, rec.ID(), MetaAPIEndpoint, err)
	}
	return u, nil
}

// Origins returns the account's API endpoint (Meta["api_endpoint"], or
// the API URL SDKs are pointed at while it has none) and the origin of the
// account's own base URL (Meta["base_url"]) when it has one. The GitHub
// token is never sent by the transport: only Refresh uses it, with the
// token exchange endpoint.
func (a *adapter) Origins(rec *records.Record) []adapters.Origin {
	def := []adapters.Origin{adapters.OriginOf(a.apiBase)}
	if u, err := apiEndpoint(rec); err == nil && u != nil {
		def[0] = adapters.OriginOf(u)
	}
	return adapters.AccountOrigins(rec, def)
}

// Classify reads the Copilot API's OpenAI-compatible errors: 429 with
// Retry-After is RateLimited, 402 and quota_exceeded a spent quota, 401 and
// 403 AuthRejected (the transport then refreshes the Copilot token once).
func (a *adapter) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return provider.Classifier{}.Classify(resp, now) // which ends with adapters.ScrubOutcome
}

// Format implements fmt.Formatter: an Adapter prints as its provider id,
// never its configuration (which may hold a client secret), whatever the
// verb.
func (a *adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *adapter) String() string { return "copilot.Adapter{" + a.Provider() + "}" }
