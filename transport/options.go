package transport

import (
	"fmt"
	"net/http"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
)

// Defaults for the options.
const (
	DefaultMaxReplayBody  = 32 << 20
	DefaultRefreshSkew    = 2 * time.Minute
	DefaultRefreshTimeout = time.Minute
	// maxDrain bounds how much of a discarded response body is read so the
	// connection can be reused; the rest is dropped with the connection.
	maxDrain = 64 << 10
	// hardMaxAttempts bounds a request whatever the options say.
	hardMaxAttempts = 64
)

// Option configures a Transport.
type Option func(*config)

type config struct {
	base           http.RoundTripper
	refreshClient  *http.Client
	maxAttempts    int
	maxWait        time.Duration
	maxReplay      int64
	skew           time.Duration
	refreshTimeout time.Duration
	session        func(*http.Request) string
	model          func(*http.Request, []byte) string
	observer       Observer
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
		maxReplay:      DefaultMaxReplayBody,
		skew:           DefaultRefreshSkew,
		refreshTimeout: DefaultRefreshTimeout,
		sleep:          realSleep,
		observer:       nopObserver{},
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

// WithRefreshClient sets the client token refreshes are sent with (default:
// one over the base transport, with the refresh timeout).
func WithRefreshClient(hc *http.Client) Option { return func(c *config) { c.refreshClient = hc } }

// WithMaxAttempts bounds the upstream requests one RoundTrip may send.
// The default, 0, allows each account once plus one retry after a refresh
// per account.
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithMaxWait lets a request wait up to d for an account to come back
// when every account is cooling down. The default, 0, never waits: the
// caller gets the answer at once, with Retry-After saying when to retry.
func WithMaxWait(d time.Duration) Option { return func(c *config) { c.maxWait = d } }

// WithMaxReplayBody bounds how much of a request body without GetBody is
// buffered so it can be sent again on another account (default 32 MiB). A
// larger body is sent once, with no rotation.
func WithMaxReplayBody(n int64) Option { return func(c *config) { c.maxReplay = n } }

// WithRefreshSkew refreshes a token that expires within d before using it
// (default 2 min).
func WithRefreshSkew(d time.Duration) Option { return func(c *config) { c.skew = d } }

// WithRefreshTimeout bounds one token refresh (default 1 min). A refresh
// runs to completion even when the request that started it is cancelled:
// refresh tokens are often single-use, and abandoning a refresh whose
// answer carries the only copy of the next one would lose the account.
func WithRefreshTimeout(d time.Duration) Option { return func(c *config) { c.refreshTimeout = d } }

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

// WithObserver receives an Event for every attempt, rotation, cooldown,
// refresh and exhaustion. A nil o observes nothing.
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o == nil {
			o = nopObserver{}
		}
		c.observer = o
	}
}

// AddObserver sends events to o as well as to the observer set before it
// (by WithObserver or another AddObserver), so that a program's own
// observer and one installed for it both see every event. A nil o adds
// nothing.
func AddObserver(o Observer) Option {
	return func(c *config) {
		switch {
		case o == nil:
		case isNop(c.observer):
			c.observer = o
		default:
			c.observer = observers{c.observer, o}
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
