package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
)

// Defaults.
const (
	DefaultTTL = 12 * time.Hour
	// maxListBody bounds an answer.
	maxListBody = 8 << 20
	// MaxModels bounds how many models one answer may list.
	MaxModels = 20000
	// maxIDLen bounds a model id.
	maxIDLen = 256
)

// ErrMalformed is wrapped by the error of an answer that is not a model
// list.
var ErrMalformed = errors.New("malformed model list")

// Model is one entry of a model list.
type Model struct {
	ID      string `json:"id"`
	OwnedBy string `json:"owned_by,omitempty"`
}

// StatusError is a non-2xx answer to the model list request.
type StatusError struct {
	Status int
	// Code is the body's error code or type when it is a short identifier.
	Code string
	// RetryAt is the Retry-After time, zero when none was given.
	RetryAt time.Time
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("model list: HTTP %d", e.Status)
	if e.Code != "" {
		s += ": " + e.Code
	}
	return s
}

type options struct {
	cache     Cache
	key       string
	ttl       time.Duration
	now       func() time.Time
	maxBody   int64
	cacheErrs func(error)
}

// Option configures Models.
type Option func(*options)

// WithCache keeps lists in c.
func WithCache(c Cache) Option { return func(o *options) { o.cache = c } }

// WithCacheKey sets the cache key. Default: "models " followed by the
// request URL. Use a key per account when accounts of one endpoint may see
// different lists.
func WithCacheKey(key string) Option { return func(o *options) { o.key = key } }

// WithTTL sets how long a cached list is served without asking the server.
// Default DefaultTTL; zero or less revalidates on every call.
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithCacheErrors receives cache failures (a failing Load or Store, an
// unreadable entry), which otherwise pass silently: the cache is best
// effort.
func WithCacheErrors(f func(error)) Option { return func(o *options) { o.cacheErrs = f } }

// Models returns the models listed at baseURL + "/models", sent with
// client (http.DefaultClient when nil), from the cache when one is given
// and fresh. The result is the caller's to modify.
func Models(ctx context.Context, client *http.Client, baseURL string, opts ...Option) ([]Model, error) {
	o := options{ttl: DefaultTTL, now: time.Now, maxBody: maxListBody, cacheErrs: func(error) {}}
	for _, f := range opts {
		f(&o)
	}
	base, err := provider.ParseBaseURL(baseURL, false)
	if err != nil {
		return nil, err
	}
	u := *base
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/")+"/models", ""
	target := u.String()
	if o.key == "" {
		o.key = "models " + target
	}

	var cached *entry
	if o.cache != nil {
		cached = o.load(ctx, target)
		if cached != nil {
			age := o.now().Sub(cached.Fetched)
			if age >= 0 && age < o.ttl {
				return cloneModels(cached.Models), nil
			}
		}
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("model list: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if cached != nil {
		if cached.ETag != "" {
			req.Header.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			req.Header.Set("If-Modified-Since", cached.LastModified)
		}
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNotModified:
		if cached == nil {
			return nil, fmt.Errorf("%w: 304 Not Modified to an unconditional request", ErrMalformed)
		}
		cached.Fetched = o.now()
		if etag := validETag(resp.Header.Get("ETag")); etag != "" {
			cached.ETag = etag
		}
		o.store(ctx, cached)
		return cloneModels(cached.Models), nil
	case resp.StatusCode/100 != 2:
		se := &StatusError{Status: resp.StatusCode}
		code, typ := provider.ErrorCode(adapters.PeekBody(resp, adapters.MaxErrorBody))
		se.Code = code
		if se.Code == "" {
			se.Code = typ
		}
		if t, ok := provider.ParseRetryAfter(resp.Header.Get("Retry-After"), o.now()); ok {
			se.RetryAt = t
		}
		return nil, se
	}

	models, err := parse(resp.Body, o.maxBody)
	if err != nil {
		return nil, err
	}
	if o.cache != nil {
		o.store(ctx, &entry{
			V:            entryVersion,
			URL:          target,
			Fetched:      o.now(),
			ETag:         validETag(resp.Header.Get("ETag")),
			LastModified: validDate(resp.Header.Get("Last-Modified")),
			Models:       models,
		})
	}
	return cloneModels(models), nil
}

// parse reads and checks a {"data":[…]} model list.
func parse(r io.Reader, limit int64) ([]Model, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("model list: reading the answer: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, limit)
	}
	var list struct {
		Data *[]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	if list.Data == nil {
		return nil, fmt.Errorf("%w: no \"data\" array", ErrMalformed)
	}
	if len(*list.Data) > MaxModels {
		return nil, fmt.Errorf("%w: more than %d models", ErrMalformed, MaxModels)
	}
	models := make([]Model, 0, len(*list.Data))
	for i, raw := range *list.Data {
		var m struct {
			ID      string `json:"id"`
			OwnedBy string `json:"owned_by"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%w: entry %d is not a model object", ErrMalformed, i)
		}
		if !validText(m.ID) {
			return nil, fmt.Errorf("%w: entry %d has no usable id", ErrMalformed, i)
		}
		if !validText(m.OwnedBy) {
			m.OwnedBy = ""
		}
		models = append(models, Model{ID: m.ID, OwnedBy: m.OwnedBy})
	}
	return models, nil
}

func validText(s string) bool {
	return s != "" && len(s) <= maxIDLen && utf8.ValidString(s) &&
		strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) }) < 0
}

// validETag returns an ETag that can be sent back in If-None-Match: printable
// ASCII without spaces at the ends, bounded. Anything else is dropped.
func validETag(s string) string {
	if s == "" || len(s) > 256 || strings.TrimSpace(s) != s {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return ""
		}
	}
	return s
}

// validDate returns an HTTP date that parses, else "".
func validDate(s string) string {
	if len(s) > 64 {
		return ""
	}
	if _, err := http.ParseTime(s); err != nil {
		return ""
	}
	return s
}

func cloneModels(m []Model) []Model { return append([]Model(nil), m...) }

// entryVersion is the cache entry format.
const entryVersion = 1

// entry is what the cache stores under a key.
type entry struct {
	V            int       `json:"v"`
	URL          string    `json:"url"`
	Fetched      time.Time `json:"fetched"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Models       []Model   `json:"models"`
}

// load returns the cached entry for target, or nil for a miss, a failing
// cache or an entry that does not decode (reported to cacheErrs).
func (o *options) load(ctx context.Context, target string) *entry {
	data, err := o.cache.Load(ctx, o.key)
	if err != nil {
		o.cacheErrs(&cacheError{Op: "load", Key: o.key, Err: err})
		return nil
	}
	if data == nil {
		return nil
	}
	var e entry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.V != entryVersion || e.URL != target || e.Models == nil {
		o.cacheErrs(&cacheError{Op: "load", Key: o.key, Err: fmt.Errorf("%w: unusable cache entry", ErrMalformed)})
		return nil
	}
	return &e
}

func (o *options) store(ctx context.Context, e *entry) {
	data, err := json.Marshal(e)
	if err == nil {
		err = o.cache.Store(ctx, o.key, data)
	}
	if err != nil {
		o.cacheErrs(&cacheError{Op: "store", Key: o.key, Err: err})
	}
}

// cacheError is a cache failure, passed to the WithCacheErrors hook.
type cacheError struct {
	Op  string // "load" or "store"
	Key string
	Err error
}

func (e *cacheError) Error() string {
	return "model list cache " + e.Op + " " + e.Key + ": " + e.Err.Error()
}

func (e *cacheError) Unwrap() error { return e.Err }
