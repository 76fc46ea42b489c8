package qwen

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// Provider is the provider id the adapter serves.
const Provider = "qwen"

// Endpoints and defaults, each changeable with an option.
const (
	DefaultDeviceCodeURL = "https://chat.qwen.ai/api/v1/oauth2/device/code"
	DefaultTokenURL      = "https://chat.qwen.ai/api/v1/oauth2/token"
	// DefaultBaseURL is the OpenAI-compatible base that OAuth accounts use
	// when the token response names none, and the base SDKs should be
	// pointed at: Authorize moves requests to each account's own base.
	DefaultBaseURL = "https://portal.qwen.ai/v1"
	// MetaResourceURL is the Meta key holding the token response's
	// resource_url.
	MetaResourceURL = "resource_url"
)

// defaultScopes are the scopes a login asks for.
var defaultScopes = []string{"openid", "profile", "email", "model.completion"}

// QwenCodeClientID is the public OAuth client of Qwen Code (QwenLM's
// qwen-code CLI). It belongs to that product, not to authvault: use it only
// by choosing the "qwen-code" preset.
const QwenCodeClientID = "f0304373b74a44d2b584a3fb70ca9e56"

var presets = map[string]string{"qwen-code": QwenCodeClientID}

// Preset returns the client id of a named public client: "qwen-code" is
// Qwen Code's.
func Preset(name string) (clientID string, ok bool) {
	id, ok := presets[name]
	return id, ok
}

// quotaCodes are DashScope error codes that mean a spent quota or an
// unpaid bill, on top of the OpenAI-style ones provider.Classifier knows.
var quotaCodes = []string{"Throttling.AllocationQuota", "AllocationQuota.FreeTierOnly", "Arrearage", "PrepaidBillOverdue", "PostpaidBillOverdue"}

// adapter is the Qwen adapter. Safe for concurrent use.
type adapter struct {
	err  error
	http adapters.Adapter // the bearer adapter for Qwen's endpoints
	// device is the login's client, endpoints, poll cadence, clock and
	// User-Agent; Refresh uses the same client id, clock and User-Agent.
	device      provider.DeviceLogin
	baseURL     string
	scopes      []string
	maxInterval time.Duration
}

// Option configures New and Login.
type Option func(*adapter) error

// WithClientID sets the OAuth client used by Login, and by Refresh for
// records that name none: your own registration, or the public client of
// Qwen Code (see Preset), chosen knowingly.
func WithClientID(id string) Option {
	return func(a *adapter) error {
		if strings.TrimSpace(id) == "" {
			return &provider.ConfigError{Option: "WithClientID", Reason: "empty client id"}
		}
		a.device.ClientID = id
		return nil
	}
}

// WithDeviceCodeURL sets the device authorization endpoint.
func WithDeviceCodeURL(u string) Option {
	return urlOption("WithDeviceCodeURL", u, func(a *adapter) { a.device.DeviceCodeURL = u })
}

// WithTokenURL sets the token endpoint, for polling and for refreshing
// records that name none.
func WithTokenURL(u string) Option {
	return urlOption("WithTokenURL", u, func(a *adapter) { a.device.TokenURL = u })
}

func urlOption(name, u string, set func(*adapter)) Option {
	return func(a *adapter) error {
		if _, err := provider.ParseBaseURL(u, true); err != nil {
			return &provider.ConfigError{Option: name, Reason: err.Error()}
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
	a := &adapter{
		device: provider.DeviceLogin{
			Provider:      Provider,
			UserAgent:     provider.DefaultUserAgent(),
			DeviceCodeURL: DefaultDeviceCodeURL,
			TokenURL:      DefaultTokenURL,
			Interval:      2 * time.Second, // Qwen's own cadence
			Now:           time.Now,
		},
		baseURL:     DefaultBaseURL,
		scopes:      defaultScopes,
		maxInterval: 10 * time.Second,
	}
	for _, o := range opts {
		if err := o(a); err != nil && a.err == nil {
			a.err = err
		}
	}
	// Qwen answers slow_down with 429 and expects a gentler back-off than
	// RFC 8628's +5 s: ×1.5, capped.
	a.device.SlowDown = func(interval, _ time.Duration) time.Duration {
		return min(interval*3/2, a.maxInterval)
	}
	bopts := []bearer.Option{
		bearer.WithBaseURL(a.baseURL),
		bearer.WithAccountBaseURL(MetaResourceURL, resourceBaseURL),
		bearer.WithTokenURL(a.device.TokenURL),
		bearer.WithTokenMeta(MetaResourceURL),
		bearer.WithClassifier(classifier),
		bearer.WithClock(a.device.Now),
	}
	if a.device.ClientID != "" {
		bopts = append(bopts, bearer.WithClientID(a.device.ClientID))
	}
	h, err := bearer.New(Provider, bopts...)
	if err != nil && a.err == nil {
		a.err = err
	}
	a.http = h
	return a
}

// Provider returns "qwen".
func (a *adapter) Provider() string { return Provider }

// Authorize sends the access token as a bearer token and re-points a
// request addressed to the default base URL (WithBaseURL) at the account's
// own base URL, Meta["base_url"], or else its Meta["resource_url"] (see
// resourceBaseURL).
func (a *adapter) Authorize(req *http.Request, rec *records.Record) error {
	if a.err != nil {
		return a.err
	}
	return a.http.Authorize(req, rec)
}

// Origins returns the account's base from Meta["resource_url"] (see
// resourceBaseURL), or the default base URL while it has none, and the
// origin of the account's own base URL (Meta["base_url"]) when it has one.
func (a *adapter) Origins(rec *records.Record) []adapters.Origin {
	if a.err != nil {
		return nil
	}
	return a.http.Origins(rec)
}

// Classify reads OpenAI-style errors, Retry-After, and DashScope's quota
// codes (Throttling.AllocationQuota, Arrearage…).
func (a *adapter) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return classifier.Classify(resp, now) // which ends with adapters.ScrubOutcome
}

var classifier = provider.Classifier{Quota: quotaCodes}

// Refresh runs a form-encoded refresh grant and returns the updated copy of
// rec: new access token, rotated refresh token, expiry, and resource_url
// when the server sent a usable one (an unusable one is ignored: the
// refresh token has already rotated, so the refresh must not fail now).
func (a *adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	if a.err != nil {
		return nil, a.err
	}
	out, err := a.http.Refresh(ctx, client, rec)
	if err != nil {
		return nil, err
	}
	if v, ok := out.Meta[MetaResourceURL]; ok {
		if _, err := resourceBaseURL(v); err != nil {
			if old, had := rec.Meta[MetaResourceURL]; had {
				out.Meta[MetaResourceURL] = old
			} else {
				delete(out.Meta, MetaResourceURL)
			}
		}
	}
	return out, nil
}

// resourceBaseURL turns a token response's resource_url into the account's
// API base URL: "https://" is put in front when it names no scheme, and
// "/v1" is used as the path when it names none. The result must be https
// (or http on a loopback host).
//
//	portal.qwen.ai                          → https://portal.qwen.ai/v1
//	https://dashscope.aliyuncs.com/compatible-mode/v1 → unchanged
func resourceBaseURL(resource string) (*url.URL, error) {
	s := strings.TrimSpace(resource)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := provider.ParseBaseURL(s, true)
	if err != nil {
		return nil, err
	}
	if u.Path == "" {
		u.Path, u.RawPath = "/v1", ""
	}
	return u, nil
}

// Format implements fmt.Formatter: an Adapter prints as its provider id,
// never its configuration (which may hold a client secret), whatever the
// verb.
func (a *adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *adapter) String() string { return "qwen.Adapter{" + a.Provider() + "}" }
