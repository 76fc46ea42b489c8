package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/usage"
	"github.com/authvault/authvault/vault"
)

// Defaults of the options.
const (
	// DefaultMaxBody bounds a request body.
	DefaultMaxBody = 32 << 20
	// DefaultFlushInterval is how often usage is added to the vault.
	DefaultFlushInterval = 5 * time.Second
)

// Option configures New.
type Option func(*config)

type config struct {
	maxBody    int64
	hosts      []string
	logger     *slog.Logger
	flushEvery time.Duration
	base       http.RoundTripper
	trOpts     []transport.Option
	poolOpts   []pool.Option
	now        func() time.Time
}

// WithMaxBody bounds request bodies (default 32 MiB); a larger one is
// answered 413 and nothing is sent upstream.
func WithMaxBody(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithHosts allows requests whose Host header names one of hosts (without
// port), besides localhost, 127.0.0.1 and [::1]. Any other Host is
// answered 421: a web page that rebinds its DNS name to 127.0.0.1 cannot
// reach the gateway.
func WithHosts(hosts ...string) Option {
	return func(c *config) { c.hosts = append(c.hosts, hosts...) }
}

// WithLogger writes one access log line per request to l (client,
// provider, account label, status, latency, bytes; never a body, a token
// or a credential), and the pool's rotations.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithFlushInterval sets how often counted usage is added to the vault
// (default 5 s; Close flushes the rest).
func WithFlushInterval(d time.Duration) Option { return func(c *config) { c.flushEvery = d } }

// WithUpstreamTransport sets the transport upstream requests are sent
// with (default: a clone of http.DefaultTransport keeping more idle
// connections per host).
func WithUpstreamTransport(rt http.RoundTripper) Option { return func(c *config) { c.base = rt } }

// WithTransportOptions passes options to each provider's transport.
func WithTransportOptions(opts ...transport.Option) Option {
	return func(c *config) { c.trOpts = append(c.trOpts, opts...) }
}

// WithPoolOptions passes options to each provider's pool.
func WithPoolOptions(opts ...pool.Option) Option {
	return func(c *config) { c.poolOpts = append(c.poolOpts, opts...) }
}

// Gateway is an http.Handler that forwards http://ADDR/PROVIDER/PATH to
// the serving account's origin + PATH. See the package documentation.
type Gateway struct {
	vault   *vault.Vault
	cfg     config
	clients *clientSet
	usage   *usage.Recorder
	metrics *metrics
	log     *slog.Logger

	mu        sync.Mutex
	upstreams map[pool.Key]*upstream
	closed    bool

	stop chan struct{}
	done chan struct{}
}

// New returns a gateway serving the accounts of v. Close it to write the
// last usage counts and the pools' counters; it does not close v.
func New(ctx context.Context, v *vault.Vault, opts ...Option) (*Gateway, error) {
	c := config{maxBody: DefaultMaxBody, flushEvery: DefaultFlushInterval, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		t.MaxIdleConns = 1024
		c.base = t
	}
	g := &Gateway{
		vault:     v,
		cfg:       c,
		clients:   &clientSet{vault: v},
		usage:     usage.NewRecorder(v),
		metrics:   newMetrics(),
		log:       c.logger,
		upstreams: map[pool.Key]*upstream{},
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if _, err := g.clients.load(ctx); err != nil {
		return nil, fmt.Errorf("gateway: reading the clients: %w %s", err, resetHint)
	}
	go g.flushLoop()
	return g, nil
}

func (g *Gateway) flushLoop() {
	defer close(g.done)
	if g.cfg.flushEvery <= 0 {
		<-g.stop
		return
	}
	t := time.NewTicker(g.cfg.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := g.usage.Flush(ctx); err != nil {
				g.log.Warn("usage not written yet", "error", err)
			}
			cancel()
		}
	}
}

// Flush adds the usage counted so far to the vault now.
func (g *Gateway) Flush(ctx context.Context) error { return g.usage.Flush(ctx) }

// Close writes the usage and pool counters not written yet and closes
// the pools. Requests still in flight should have ended (http.Server's
// Shutdown first).
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	ups := g.upstreams
	g.upstreams = nil
	g.mu.Unlock()
	close(g.stop)
	<-g.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := []error{g.usage.Flush(ctx)}
	for _, u := range ups {
		errs = append(errs, u.client.Close())
	}
	return errors.Join(errs...)
}

// hostAllowed reports whether the Host header names this machine or a
// name the operator allowed.
func (g *Gateway) hostAllowed(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	switch strings.ToLower(h) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	for _, a := range g.cfg.hosts {
		if strings.EqualFold(a, h) {
			return true
		}
	}
	return false
}

// ServeHTTP routes /healthz, /readyz, /metrics and /PROVIDER[@NAMESPACE]/….
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.hostAllowed(r.Host) {
		g.log.Warn("request", "status", http.StatusMisdirectedRequest, "method", r.Method, "host", r.Host, "reason", "host not allowed")
		writeError(w, "", http.StatusMisdirectedRequest, "host_not_allowed",
			"authvault gateway: the Host header does not name this machine (allow more names with --host)")
		return
	}
	switch r.URL.Path {
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
		return
	case "/readyz":
		g.serveReady(w, r)
		return
	case "/metrics":
		if _, ok, _ := g.clients.authenticate(r.Context(), r.Header); !ok {
			writeError(w, "", http.StatusUnauthorized, "invalid_api_key", "authvault gateway: /metrics needs a client token (Authorization: Bearer)")
			return
		}
		g.metrics.handler.ServeHTTP(w, r)
		return
	}
	g.forward(w, r)
}
