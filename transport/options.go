package transport

import (
	"fmt"
	"net/http"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
)

const (
	// defaultMaxReplayBody bounds a buffered request body (WithMaxReplayBody).
	defaultMaxReplayBody = 32 << 20
	// refreshSkew: a token that expires this soon is refreshed before use.
	refreshSkew = 2 * time.Minute
	// refreshTimeout bounds one token refresh. A refresh runs to
	// completion even when the request that started it is cancelled:
	// refresh tokens are often single-use, and abandoning a refresh whose
	// answer carries the only copy of the next one would lose the account.
	refreshTimeout = time.Minute
	// maxDrain bounds how much of a discarded response body is read so the
	// connection can be reused; the rest is dropped with the connection.
	maxDrain = 64 << 10
	// hardMaxAttempts bounds the upstream requests of one RoundTrip, which
	// tries each account once (twice around a refresh) anyway.
	hardMaxAttempts = 64
)

// Option configures a Transport.
type Option func(*config)

type config struct {
	base           http.RoundTripper
	refreshClient  *http.Client // over base, bounded by refreshTimeout
	maxWait        time.Duration
	maxReplay      int64
	skew           time.Duration
	refreshTimeout time.Duration
	session        func(*http.Request) string
	model          func(*http.Request, []byte) string
	observers      []func(Event)
	// sleep waits for an account when maxWait allows it; false when done
	// closed first. Tests replace it.
	sleep func(done <-chan struct{}, d time.Duration) bool
	// afterAcquire, when set, sees every lease as it is handed out (tests).
	afterAcquire func(*pool.Lease)
	// origins are bound to every account, besides the adapter's.
	origins []adapters.Origin
	// err is an option given a value it cannot use: every RoundTrip
	// returns it.
	err error
}

func newConfig(opts []Option) config {
	c := config{
		base:           http.DefaultTransport,
		maxReplay:      defaultMaxReplayBody,
		skew:           refreshSkew,
		refreshTimeout: refreshTimeout,
		sleep:          realSleep,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.refreshClient == nil {
		c.refreshClient = &http.Client{Transport: c.base, Timeout: c.refreshTimeout}
	}
	return c
}

// WithOrigins binds more origins to every account of the pool, besides
// those its adapter names (the provider's documented API origins and the
// account's own base URL): a test server on loopback, a gateway or a
// corporate proxy in front of the provider. Each value is an origin or a
// URL whose origin is taken ("http://127.0.0.1:8080", "https://proxy.lan/v1").
// A value that is not an http or https URL makes every request fail.
func WithOrigins(origins ...string) Option {
	return func(c *config) {
		for _, s := range origins {
			o, err := adapters.ParseOrigin(s)
			if err != nil {
				if c.err == nil {
					c.err = fmt.Errorf("authvault: WithOrigins: value %d: %w", len(c.origins)+1, err)
				}
				continue
			}
			c.origins = append(c.origins, o)
		}
	}
}

// WithBase sets the transport requests are sent with (default
// http.DefaultTransport).
func WithBase(rt http.RoundTripper) Option { return func(c *config) { c.base = rt } }

// WithMaxWait lets a request wait up to d for an account to come back
// when every account is cooling down. The default, 0, never waits: the
// caller gets the answer at once, with Retry-After saying when to retry.
func WithMaxWait(d time.Duration) Option { return func(c *config) { c.maxWait = d } }

// WithMaxReplayBody bounds how much of a request body without GetBody is
// buffered so it can be sent again on another account (default 32 MiB). A
// larger body is sent once, with no rotation.
func WithMaxReplayBody(n int64) Option { return func(c *config) { c.maxReplay = n } }

// WithSessionKey derives a session key from each request, so that a
// conversation stays on one account while it is healthy (prompt caches).
func WithSessionKey(fn func(*http.Request) string) Option {
	return func(c *config) { c.session = fn }
}

// WithModel derives the model a request is for, from the request and its
// body when it was buffered (nil otherwise), for per-model cooldowns.
// JSONModel reads the "model" field most LLM APIs use.
func WithModel(fn func(req *http.Request, body []byte) string) Option {
	return func(c *config) { c.model = fn }
}

// WithObserver sends every Event to fn, besides the observers given
// before it: a program's own observer and those installed for it (a log,
// the vault's event log) all see every event, in the order given. fn runs
// on the request's goroutine: keep it fast. A nil fn adds nothing.
func WithObserver(fn func(Event)) Option {
	return func(c *config) {
		if fn != nil {
			c.observers = append(c.observers, fn)
		}
	}
}

func realSleep(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
