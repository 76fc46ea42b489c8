package cursor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// Provider is the provider id the adapter serves.
const Provider = "cursor"

// DefaultBaseURL is Cursor's public API.
const DefaultBaseURL = "https://api.cursor.com"

// EnvAPIKey is the environment variable the Cursor CLI reads its key from.
const EnvAPIKey = "CURSOR_API_KEY"

// Meta keys Login fills in.
const (
	MetaEmail   = "email"
	MetaKeyName = "key_name"
)

// ErrNotAPIKey is returned for a Cursor record that is not an API-key
// record: only documented user API keys are supported.
var ErrNotAPIKey = errors.New("cursor accounts are API-key records")

// ErrKeyRejected is wrapped by Login's error when Cursor refuses the key.
var ErrKeyRejected = errors.New("the API key was rejected")

// maxBody bounds the /v1/me answer.
const maxBody = 64 << 10

// adapter is the Cursor adapter. Safe for concurrent use.
type adapter struct {
	err       error
	basic     bool
	base      *url.URL
	userAgent string
}

// Option configures New and Login.
type Option func(*adapter) error

// WithBasicAuth sends keys as HTTP Basic credentials (the key as user name,
// empty password) instead of as bearer tokens.
func WithBasicAuth() Option {
	return func(a *adapter) error {
		a.basic = true
		return nil
	}
}

// WithBaseURL sets the API base Login checks keys against. Default
// DefaultBaseURL.
func WithBaseURL(u string) Option {
	return func(a *adapter) error {
		b, err := provider.ParseBaseURL(u, true)
		if err != nil {
			return &provider.ConfigError{Option: "WithBaseURL", Reason: err.Error()}
		}
		a.base = b
		return nil
	}
}

func init() { adapters.Register(New()) }

// New returns an adapter with the given options. An option given an
// unusable value makes Authorize and Login return that
// *provider.ConfigError.
func New(opts ...Option) adapters.Adapter { return newAdapter(opts...) }

func newAdapter(opts ...Option) *adapter {
	base, _ := url.Parse(DefaultBaseURL)
	a := &adapter{base: base, userAgent: provider.DefaultUserAgent()}
	for _, o := range opts {
		if err := o(a); err != nil && a.err == nil {
			a.err = err
		}
	}
	return a
}

// Provider returns "cursor".
func (a *adapter) Provider() string { return Provider }

// Authorize sends the record's API key, and re-points a request addressed
// to the base URL (WithBaseURL) at the account's own base URL
// (Meta["base_url"]) when it has one.
func (a *adapter) Authorize(req *http.Request, rec *records.Record) error {
	if a.err != nil {
		return a.err
	}
	key, err := apiKey(rec)
	if err != nil {
		return err
	}
	if err := a.setKey(req, key, rec.ID()); err != nil {
		return err
	}
	if err := provider.RebaseAccount(req, rec, a.base); err != nil {
		return fmt.Errorf("%s: %w", Provider, err)
	}
	return nil
}

// Origins returns the base URL's origin (DefaultBaseURL,
// https://api.cursor.com, unless WithBaseURL) and the origin of the
// account's own base URL (Meta["base_url"]) when it has one.
func (a *adapter) Origins(rec *records.Record) []adapters.Origin {
	return adapters.AccountOrigins(rec, []adapters.Origin{adapters.OriginOf(a.base)})
}

func (a *adapter) setKey(req *http.Request, key records.Secret, id records.ID) error {
	if !a.basic {
		if err := provider.SetBearer(req, key); err != nil {
			return fmt.Errorf("%s: %s: %w", Provider, id, err)
		}
		return nil
	}
	// Validate as a bearer token would be, then send it as Basic.
	probe := &http.Request{Header: http.Header{}}
	if err := provider.SetBearer(probe, key); err != nil {
		return fmt.Errorf("%s: %s: %w", Provider, id, err)
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(key.Reveal()+":")))
	return nil
}

func apiKey(rec *records.Record) (records.Secret, error) {
	if rec == nil {
		return "", fmt.Errorf("%s: nil record", Provider)
	}
	if rec.Provider != Provider {
		return "", fmt.Errorf("%s: record %s: %w", Provider, rec.ID(), provider.ErrWrongProvider)
	}
	if rec.API == nil {
		return "", fmt.Errorf("%s: record %s: %w", Provider, rec.ID(), ErrNotAPIKey)
	}
	return rec.API.Key, nil
}

// Classify reads Retry-After and the OpenAI-style and
// {"error":"…","message":"…"} error bodies Cursor's APIs answer with.
func (a *adapter) Classify(resp *http.Response, now time.Time) pool.Outcome {
	return provider.Classifier{}.Classify(resp, now) // which ends with adapters.ScrubOutcome
}

// Refresh returns adapters.ErrNotRefreshable: API keys do not expire into
// new ones.
func (a *adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	return nil, fmt.Errorf("%s: %w", Provider, adapters.ErrNotRefreshable)
}

// NewRecord builds the API-key record of key for id (Provider and
// Namespace default to "cursor" and "default"; Label is required) without
// checking the key.
func NewRecord(id records.ID, key records.Secret) (*records.Record, error) {
	id, err := provider.AccountID(Provider, id)
	if err != nil {
		return nil, err
	}
	key = records.Secret(strings.TrimSpace(key.Reveal()))
	if err := provider.SetBearer(&http.Request{Header: http.Header{}}, key); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", Provider, id, err)
	}
	rec := &records.Record{Provider: id.Provider, Namespace: id.Namespace, Label: id.Label, Kind: records.KindAPI, API: &records.APIKey{Key: key}}
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return rec, nil
}

// me is the GET /v1/me answer.
type me struct {
	APIKeyName string `json:"apiKeyName"`
	UserEmail  string `json:"userEmail"`
}

// Login checks key with GET /v1/me and returns its record for id, with
// Meta["email"] and Meta["key_name"] from the answer. When id.Label is
// empty the key owner's e-mail becomes the label. A refused key gives a
// *provider.LoginError wrapping ErrKeyRejected. The options name another
// API base (WithBaseURL) or Basic authentication (WithBasicAuth).
func Login(ctx context.Context, client *http.Client, id records.ID, key records.Secret, opts ...Option) (*records.Record, error) {
	return newAdapter(opts...).Login(ctx, client, id, key)
}

// Login is the package's Login with the adapter's options.
func (a *adapter) Login(ctx context.Context, client *http.Client, id records.ID, key records.Secret) (*records.Record, error) {
	if a.err != nil {
		return nil, a.err
	}
	key = records.Secret(strings.TrimSpace(key.Reveal()))
	if id.Label != "" {
		// Refuse a bad id or key before sending anything.
		if _, err := NewRecord(id, key); err != nil {
			return nil, err
		}
	} else if _, err := provider.AccountID(Provider, id); err != nil {
		return nil, err
	}
	fail := func(status int, code string, cause error) (*records.Record, error) {
		return nil, &provider.LoginError{Provider: Provider, Step: "key check", Status: status, Code: code, Err: cause}
	}
	u := *a.base
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/")+"/v1/me", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(0, "", errors.New("cannot build the request"))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", a.userAgent)
	if err := a.setKey(req, key, id); err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return fail(0, "", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return fail(resp.StatusCode, "", errors.New("unreadable or oversized answer"))
	}
	switch st := resp.StatusCode; {
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return fail(st, "", ErrKeyRejected)
	case st/100 != 2:
		code, typ := provider.ErrorCode(body)
		if code == "" {
			code = typ
		}
		return fail(st, code, nil)
	}
	var m me
	if err := json.Unmarshal(body, &m); err != nil {
		return fail(resp.StatusCode, "", errors.New("answer is not JSON"))
	}
	meta := map[string]string{}
	if m.UserEmail != "" && len(m.UserEmail) <= 254 && !strings.ContainsFunc(m.UserEmail, isControl) {
		meta[MetaEmail] = m.UserEmail
	}
	if m.APIKeyName != "" && len(m.APIKeyName) <= 255 && !strings.ContainsFunc(m.APIKeyName, isControl) {
		meta[MetaKeyName] = m.APIKeyName
	}
	if id.Label == "" {
		if meta[MetaEmail] == "" {
			return fail(resp.StatusCode, "", errors.New("no label given and the answer names no e-mail"))
		}
		id.Label = meta[MetaEmail]
	}
	rec, err := NewRecord(id, key)
	if err != nil {
		return nil, err
	}
	if len(meta) > 0 {
		rec.Meta = meta
	}
	return rec, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Format implements fmt.Formatter: an Adapter prints as its provider id,
// never its configuration (which may hold a client secret), whatever the
// verb.
func (a *adapter) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// String returns the adapter's name (text/template prints with it).
func (a *adapter) String() string { return "cursor.Adapter{" + a.Provider() + "}" }
