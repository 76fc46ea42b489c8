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
	"github.com/authvault/authvault/adapters/internal/login"
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

// DefaultScopes are the scopes a login asks for.
var DefaultScopes = []string{"openid", "profile", "email", "model.completion"}

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

// QuotaCodes are DashScope error codes that mean a spent quota or an
// unpaid bill, on top of bearer.DefaultQuotaCodes.
var QuotaCodes = []string{"Throttling.AllocationQuota", "AllocationQuota.FreeTierOnly", "Arrearage", "PrepaidBillOverdue", "PostpaidBillOverdue"}

// Adapter is the Qwen adapter. Construct it with New. Safe for concurrent use.
type Adapter struct {
	err  error
	http *bearer.Adapter
	// device is the login's client, poll cadence, clock and User-Agent;
	// Refresh uses the same client id, clock and User-Agent.
	device        login.Device
	deviceCodeURL string
	tokenURL      string
	baseURL       string
	scopes        []string
	maxInterval   time.Duration
}

// Option configures an Adapter.
type Option func(*Adapter) error

// WithClientID sets the OAuth client used by Login, and by Refresh for
// records that name none.
func WithClientID(id string) Option {
	return func(a *Adapter) error { return a.device.SetClientID(id) }
}

// WithPreset sets the OAuth client to a named public client (see Preset).
func WithPreset(name string) Option {
	return func(a *Adapter) error { return a.device.SetPreset(Preset, name) }
}

// WithDeviceCodeURL sets the device authorization endpoint.
func WithDeviceCodeURL(u string) Option {
	return urlOption("WithDeviceCodeURL", u, func(a *Adapter) { a.deviceCodeURL = u })
}

// WithTokenURL sets the token endpoint, for polling and for refreshing
// records that name none.
func WithTokenURL(u string) Option {
	return urlOption("WithTokenURL", u, func(a *Adapter) { a.tokenURL = u })
}

// WithBaseURL sets the base URL SDKs are pointed at (default
// DefaultBaseURL), the prefix Authorize replaces with each account's own.
func WithBaseURL(u string) Option {
	return urlOption("WithBaseURL", u, func(a *Adapter) { a.baseURL = u })
}

func urlOption(name, u string, set func(*Adapter)) Option {
	return func(a *Adapter) error {
		if _, err := bearer.ParseBaseURL(u, true); err != nil {
			return &bearer.ConfigError{Option: name, Reason: err.Error()}
		}
		set(a)
		return nil
	}
}

// WithScopes replaces DefaultScopes for Login.
func WithScopes(scopes ...string) Option {
	return func(a *Adapter) error {
		a.scopes = append([]string(nil), scopes...)
		return nil
	}
}

// WithUserAgent sets the User-Agent of the requests the adapter makes
// itself (login, refresh), for example the embedding application's name.
// Default bearer.DefaultUserAgent().
func WithUserAgent(ua string) Option {
	return func(a *Adapter) error {
		if strings.TrimSpace(ua) == "" {
			return &bearer.ConfigError{Option: "WithUserAgent", Reason: "empty"}
		}
		a.device.UserAgent = ua
		return nil
	}
}

// WithPollInterval sets the first poll interval, used when the server gives
// none (default 2 s, Qwen's own cadence), and the cap slow_down raises it to
// (default 10 s).
func WithPollInterval(first, max time.Duration) Option {
	return func(a *Adapter) error {
		if first <= 0 || max < first {
			return &bearer.ConfigError{Option: "WithPollInterval", Reason: "want 0 < first <= max"}
		}
		a.device.Interval, a.maxInterval = first, max
		return nil
	}
}

// WithNow sets the clock. Default time.Now.
func WithNow(now func() time.Time) Option {
	return func(a *Adapter) error { return a.device.SetNow(now) }
}

// WithSleep sets how Login waits between polls: sleep must wait d or until
// ctx is done, and return ctx's error then. Tests pass one that advances a
// fake clock instead.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(a *Adapter) error { return a.device.SetSleep(sleep) }
}

func init() { adapters.Register(New()) }

// New returns an adapter with the given options. An option given an
// unusable value makes every method return that *bearer.ConfigError.
func New(opts ...Option) *Adapter {
	a := &Adapter{
		device: login.Device{
			Provider:  Provider,
			UserAgent: bearer.DefaultUserAgent(),
			Interval:  2 * time.Second,
			Now:       time.Now,
		},
		deviceCodeURL: DefaultDeviceCodeURL,
		tokenURL:      DefaultTokenURL,
		baseURL:       DefaultBaseURL,
		scopes:        DefaultScopes,
		maxInterval:   10 * time.Second,
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
		bearer.WithAccountBaseURL(MetaResourceURL, ResourceBaseURL),
		bearer.WithTokenURL(a.tokenURL),
		bearer.WithTokenMeta(MetaResourceURL),
		bearer.WithClassifier(classifier),
		bearer.WithUserAgent(a.device.UserAgent),
		bearer.WithNow(a.device.Now),
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
func (a *Adapter) Provider() string { return Provider }

// Authorize sends the access token as a bearer token and re-points a
// request addressed to the default base URL (WithBaseURL) at the account's
// own base URL, Meta["base_url"], or else its Meta["resource_url"] (see
// ResourceBaseURL).
func (a *Adapter) Authorize(req *http.Request, rec *records.Record) error {
	if a.err != nil {
		return a.err
	}
	return a.http.Authorize(req, rec)
}

// Origins returns the account's base from Meta["resource_url"] (see
// ResourceBaseURL), or the default base URL while it has none, and the
// origin of the account's own base URL (Meta["base_url"]) when it has one.
func (a *Adapter) Origins(rec *records.Record) []adapters.Origin {
	if a.err != nil {
		return nil
	}
	return a.http.Origins(rec)
}

// Classify reads OpenAI-style errors, Retry-After, and DashScope's quota
// codes (QuotaCodes).
func (a *Adapter) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return adapters.ScrubOutcome(resp, a.classify(resp, now))
}

// classify is Classify before ScrubOutcome.
func (a *Adapter) classify(resp *http.Response, now time.Time) pool.Outcome {
	return classifier.Classify(resp, now)
}

var classifier = bearer.Classifier{Quota: QuotaCodes}

// Refresh runs a form-encoded refresh grant and returns the updated copy of
// rec: new access token, rotated refresh token, expiry, and resource_url
// when the server sent a usable one (an unusable one is ignored: the
// refresh token has already rotated, so the refresh must not fail now).
func (a *Adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	if a.err != nil {
		return nil, a.err
	}
	out, err := a.http.Refresh(ctx, client, rec)
	if err != nil {
		return nil, err
	}
	if v, ok := out.Meta[MetaResourceURL]; ok {
		if _, err := ResourceBaseURL(v); err != nil {
			if old, had := rec.Meta[MetaResourceURL]; had {
				out.Meta[MetaResourceURL] = old
			} else {
				delete(out.Meta, MetaResourceURL)
			}
		}
	}
	return out, nil
}

// ResourceBaseURL turns a token response's resource_url into the account's
// API base URL: "https://" is put in front when it names no scheme, and
// "/v1" is used as the path when it names none. The result must be https
// (or http on a loopback host).
//
//	portal.qwen.ai                          → https://portal.qwen.ai/v1
//	https://dashscope.aliyuncs.com/compatible-mode/v1 → unchanged
func ResourceBaseURL(resource string) (*url.URL, error) {
	s := strings.TrimSpace(resource)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := bearer.ParseBaseURL(s, true)
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
func (a *Adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *Adapter) String() string { return "qwen.Adapter{" + a.Provider() + "}" }
