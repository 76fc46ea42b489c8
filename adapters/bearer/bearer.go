package bearer

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// adapter sends bearer tokens for one provider id. It is safe for
// concurrent use.
type adapter struct {
	provider     string
	base         *url.URL          // the provider's default base URL, nil when unknown
	origins      []adapters.Origin // base's, for accounts without their own
	metaKey      string
	parseAccount func(string) (*url.URL, error)
	tokenURL     string
	clientID     string
	clientSecret records.Secret
	tokenMeta    []string
	headers      http.Header
	classifier   provider.Classifier
	userAgent    string
	now          func() time.Time
}

// Option configures New.
type Option func(*adapter) error

// WithBaseURL sets the provider's base URL, the one callers point their SDK
// at (for example "https://api.together.xyz/v1"). It is what a per-account
// base URL replaces: see provider.RebaseRequest. Plain http is accepted
// (local servers).
func WithBaseURL(base string) Option {
	return func(a *adapter) error {
		u, err := provider.ParseBaseURL(base, false)
		if err != nil {
			return &provider.ConfigError{Option: "WithBaseURL", Reason: err.Error()}
		}
		a.base = u
		return nil
	}
}

// WithAccountBaseURL says which Meta key holds an account's own base URL
// (default adapters.MetaBaseURL) and how to parse it. parse may be nil,
// which means provider.ParseBaseURL(value, false).
func WithAccountBaseURL(metaKey string, parse func(string) (*url.URL, error)) Option {
	return func(a *adapter) error {
		if metaKey == "" {
			return &provider.ConfigError{Option: "WithAccountBaseURL", Reason: "empty Meta key"}
		}
		a.metaKey = metaKey
		if parse != nil {
			a.parseAccount = parse
		}
		return nil
	}
}

// WithTokenURL sets the OAuth token endpoint used by Refresh for records
// that do not name their own (rec.OAuth.TokenURL wins). It must be https,
// or http on a loopback address.
func WithTokenURL(tokenURL string) Option {
	return func(a *adapter) error {
		if _, err := provider.ParseBaseURL(tokenURL, true); err != nil {
			return &provider.ConfigError{Option: "WithTokenURL", Reason: err.Error()}
		}
		a.tokenURL = tokenURL
		return nil
	}
}

// WithClientID sets the OAuth client id used by Refresh for records that do
// not name their own (rec.OAuth.ClientID wins: a refresh must use the client
// the tokens were issued to).
func WithClientID(id string) Option {
	return func(a *adapter) error {
		if strings.TrimSpace(id) == "" {
			return &provider.ConfigError{Option: "WithClientID", Reason: "empty client id"}
		}
		a.clientID = id
		return nil
	}
}

// WithClientSecret sets a confidential client's secret for Refresh; it is
// then sent with HTTP Basic authentication. Public clients need none.
func WithClientSecret(secret records.Secret) Option {
	return func(a *adapter) error {
		a.clientSecret = secret
		return nil
	}
}

// WithTokenMeta copies the named string fields of a token response (for
// example "resource_url") into the refreshed record's Meta.
func WithTokenMeta(keys ...string) Option {
	return func(a *adapter) error {
		a.tokenMeta = append(a.tokenMeta, keys...)
		return nil
	}
}

// WithHeader adds a static header to every authorized request (for example
// a provider's required version header). It cannot set Authorization.
func WithHeader(key, value string) Option {
	return func(a *adapter) error {
		k := http.CanonicalHeaderKey(key)
		if k == "" || k == "Authorization" || !validHeaderValue(value) {
			return &provider.ConfigError{Option: "WithHeader", Reason: fmt.Sprintf("cannot set header %q", k)}
		}
		a.headers.Add(k, value)
		return nil
	}
}

// WithClassifier replaces the response classifier (for example to add a
// provider's quota error codes).
func WithClassifier(cl provider.Classifier) Option {
	return func(a *adapter) error {
		a.classifier = cl
		return nil
	}
}

// WithClock sets the clock used to compute token expiry. Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(a *adapter) error {
		if now == nil {
			return &provider.ConfigError{Option: "WithClock", Reason: "nil clock"}
		}
		a.now = now
		return nil
	}
}

// New returns an adapter serving providerID, a lower-case provider id
// (validated as records.ID does). The caller registers it with
// adapters.Register. The adapter has a BaseURL method returning a copy of
// the provider's default base URL (WithBaseURL), or nil.
func New(providerID string, opts ...Option) (adapters.Adapter, error) {
	// Validate the id exactly as records do, so that every record this
	// adapter can serve has a valid ID.
	if err := (records.ID{Provider: providerID, Namespace: records.DefaultNamespace, Label: "x"}).Validate(); err != nil {
		return nil, err
	}
	a := &adapter{
		provider:     providerID,
		metaKey:      adapters.MetaBaseURL,
		parseAccount: func(s string) (*url.URL, error) { return provider.ParseBaseURL(s, false) },
		headers:      http.Header{},
		userAgent:    provider.DefaultUserAgent(),
		now:          time.Now,
	}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	if a.base != nil {
		a.origins = []adapters.Origin{adapters.OriginOf(a.base)}
	}
	return a, nil
}

// Provider returns the provider id the adapter serves.
func (a *adapter) Provider() string { return a.provider }

// BaseURL returns a copy of the provider's default base URL, or nil.
func (a *adapter) BaseURL() *url.URL {
	if a.base == nil {
		return nil
	}
	u := *a.base
	return &u
}

// Authorize sets "Authorization: Bearer <token>" and the configured static
// headers on req, and re-points req at the account's own base URL when the
// record's Meta names one and req is addressed to the provider's default
// base URL (any request, for an adapter without one).
func (a *adapter) Authorize(req *http.Request, rec *records.Record) error {
	if err := a.checkRecord(rec); err != nil {
		return err
	}
	tok := rec.AccessToken()
	if err := provider.SetBearer(req, tok); err != nil {
		return fmt.Errorf("%s: %s: %w", a.provider, rec.ID(), err)
	}
	for k, vs := range a.headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	return a.rebase(req, rec)
}

func (a *adapter) checkRecord(rec *records.Record) error {
	if rec == nil {
		return fmt.Errorf("%s: nil record", a.provider)
	}
	if rec.Provider != a.provider {
		return fmt.Errorf("%s: record %s: %w", a.provider, rec.ID(), provider.ErrWrongProvider)
	}
	return nil
}

// rebase re-points a request addressed to the provider's default base URL
// (any request, when the adapter has none) at the account's own: its
// Meta[adapters.MetaBaseURL] when set, else the URL in the adapter's account Meta
// key (WithAccountBaseURL).
func (a *adapter) rebase(req *http.Request, rec *records.Record) error {
	to, err := a.accountBase(rec)
	if err != nil {
		return err
	}
	provider.RebaseRequest(req, a.base, to)
	return nil
}

// accountBase returns the account's own base URL, nil when it has none.
func (a *adapter) accountBase(rec *records.Record) (*url.URL, error) {
	key := adapters.MetaBaseURL
	raw := rec.Meta[adapters.MetaBaseURL]
	if raw == "" {
		key, raw = a.metaKey, rec.Meta[a.metaKey]
	}
	if raw == "" {
		return nil, nil
	}
	parse := a.parseAccount
	if key != a.metaKey {
		parse = func(s string) (*url.URL, error) { return provider.ParseBaseURL(s, false) }
	}
	to, err := parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: record %s: Meta[%q]: %w", a.provider, rec.ID(), key, err)
	}
	return to, nil
}

// Origins returns the origins rec's credential may be sent to: the
// account's endpoint from the adapter's account Meta key when that is not
// adapters.MetaBaseURL and the record has one (Qwen's resource_url), else the
// provider's default base URL; and the account's own base URL
// (Meta[adapters.MetaBaseURL]). An adapter with no default base URL binds only
// the account's.
func (a *adapter) Origins(rec *records.Record) []adapters.Origin {
	if rec.Meta[adapters.MetaBaseURL] == "" && rec.Meta[a.metaKey] == "" {
		return a.origins
	}
	var out []adapters.Origin
	add := func(u *url.URL) {
		if u == nil {
			return
		}
		o := adapters.OriginOf(u)
		for _, have := range out {
			if have == o {
				return
			}
		}
		out = append(out, o)
	}
	endpoint := false
	if a.metaKey != adapters.MetaBaseURL {
		if raw := rec.Meta[a.metaKey]; raw != "" {
			if u, err := a.parseAccount(raw); err == nil {
				add(u)
				endpoint = true
			}
		}
	}
	if !endpoint {
		add(a.base)
	}
	if raw := rec.Meta[adapters.MetaBaseURL]; raw != "" {
		if u, err := provider.ParseBaseURL(raw, false); err == nil {
			add(u)
		}
	}
	return out
}

// Classify classifies resp with the adapter's Classifier.
func (a *adapter) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return a.classifier.Classify(resp, now) // which ends with adapters.ScrubOutcome
}

// validHeaderValue reports whether s can be sent as an HTTP header value:
// no control characters other than tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// Format implements fmt.Formatter: an Adapter prints as its provider id,
// never its configuration (which may hold a client secret), whatever the
// verb.
func (a *adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *adapter) String() string { return "bearer.Adapter{" + a.provider + "}" }
