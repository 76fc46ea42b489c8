package gateway

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/cursor"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/usage"
)

// defaultBases are the providers' default base URLs, on which every
// upstream request is built; an account with a base URL of its own is
// re-pointed there by its adapter. A custom provider's adapter names its
// own (BaseURL).
var defaultBases = map[string]string{
	anthropic.ProviderID: anthropic.DefaultBaseURL,
	openai.ProviderID:    openai.DefaultBaseURL,
	"google":             google.DefaultBaseURL,
	"copilot":            copilot.DefaultAPIURL,
	"qwen":               qwen.DefaultBaseURL,
	"cursor":             cursor.DefaultBaseURL,
}

// upstreamOrigin returns the scheme and host requests for provider are
// built on: the origin of the adapter's default base URL. A client's base
// URL for the provider (http://ADDR/PROVIDER) stands for that origin, so
// the path it sends is kept whole (/v1/messages, /v1/chat/completions).
func upstreamOrigin(provider string, a adapters.Adapter) (*url.URL, error) {
	var base *url.URL
	if s, ok := defaultBases[provider]; ok {
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		base = u
	} else if b, ok := a.(interface{ BaseURL() *url.URL }); ok {
		base = b.BaseURL()
	}
	if base == nil || base.Host == "" {
		return nil, fmt.Errorf("gateway: provider %q has no default base URL to forward to", provider)
	}
	return &url.URL{Scheme: base.Scheme, Host: base.Host}, nil
}

// upstream is one provider+namespace: its pool, transport and proxy.
type upstream struct {
	key    pool.Key
	origin *url.URL
	client *authvault.Client
	proxy  *httputil.ReverseProxy
}

// exchange is one request through the gateway, found by the transport's
// observer and the upstream transport through the request's context.
type exchange struct {
	key      pool.Key
	client   string
	rest     string // the escaped path after /PROVIDER
	start    time.Time
	account  records.ID // the account of the latest attempt
	attempts int
	status   int
	in, out  int64
	bytes    int64
	err      error
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// sessionKey keeps a conversation on one account (prompt caches).
func sessionKey(r *http.Request) string {
	if s := r.Header.Get("X-Claude-Code-Session-Id"); s != "" {
		return s
	}
	return r.Header.Get("X-Session-Id")
}

// upstreamFor returns the upstream of key, opening its pool on first use.
func (g *Gateway) upstreamFor(ctx context.Context, key pool.Key, a adapters.Adapter) (*upstream, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, errors.New("gateway: closed")
	}
	if u := g.upstreams[key]; u != nil {
		return u, nil
	}
	origin, err := upstreamOrigin(key.Provider, a)
	if err != nil {
		return nil, err
	}
	trOpts := append([]transport.Option{
		transport.WithBase(&observedTransport{next: g.cfg.base, g: g, latency: g.metrics.latency.WithLabelValues(key.Provider)}),
		transport.WithObserver(g.observe),
		transport.WithSessionKey(sessionKey),
		transport.WithMaxReplayBody(g.cfg.maxBody),
	}, g.cfg.trOpts...)
	c, err := authvault.Open(ctx, key.Provider,
		authvault.WithVault(g.vault),
		authvault.WithNamespace(key.Namespace),
		authvault.WithAdapter(a),
		authvault.WithPoolOptions(g.cfg.poolOpts...),
		authvault.WithTransportOptions(trOpts...))
	if err != nil {
		return nil, err
	}
	u := &upstream{key: key, origin: origin, client: c}
	u.proxy = &httputil.ReverseProxy{
		Rewrite:        u.rewrite,
		Transport:      c.Transport,
		FlushInterval:  -1, // every write reaches the client at once: streams are not buffered
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       log.New(slogWriter{g.log}, "", 0),
	}
	g.upstreams[key] = u
	return u, nil
}

// rewrite builds the upstream request: the provider's origin, the path
// after /PROVIDER and the query. Nothing the client sends chooses where
// it goes. The client's token goes nowhere; the adapter sets the
// account's credential.
func (u *upstream) rewrite(pr *httputil.ProxyRequest) {
	x := exchangeOf(pr.In.Context())
	out := pr.Out
	// pr.Out.URL is the proxy's own copy of the client's: every field
	// that could say where the request goes is set here.
	*out.URL = url.URL{Scheme: u.origin.Scheme, Host: u.origin.Host, RawQuery: pr.In.URL.RawQuery}
	if p, err := url.PathUnescape(x.rest); err == nil {
		out.URL.Path, out.URL.RawPath = p, x.rest
		if out.URL.EscapedPath() != x.rest {
			out.URL.RawPath = ""
		}
	}
	out.Host = ""
	h := out.Header
	for _, k := range tokenHeaders {
		h.Del(k)
	}
	h.Del("Cookie")
	h.Del("Proxy-Authorization")
	// The upstream transport asks for and undoes compression itself, so
	// the usage in a body can be read on the way.
	h.Del("Accept-Encoding")
	if u.key.Provider == "google" && out.URL.RawQuery != "" {
		// Google clients may put an API key in the query: never the
		// gateway's token to Google.
		q := out.URL.Query()
		if q.Has("key") {
			q.Del("key")
			out.URL.RawQuery = q.Encode()
		}
	}
}

// modifyResponse counts the answer and taps its body for usage. A 429
// that reached no upstream is the transport's "no account can serve":
// it is given the provider's error shape.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	x := exchangeOf(resp.Request.Context())
	if x == nil {
		return nil
	}
	x.status = resp.StatusCode
	if x.attempts == 0 && resp.StatusCode == http.StatusTooManyRequests {
		resp.Body.Close()
		return &exhaustedError{retryAfter: resp.Header.Get("Retry-After")}
	}
	b := &tapBody{x: x}
	b.tap.init(resp.Body, resp.Header.Get("Content-Type"))
	resp.Body = b
	return nil
}

// tapBody hands the tap's counts to the exchange when the proxy closes it.
type tapBody struct {
	tap
	x *exchange
}

func (b *tapBody) Close() error {
	err := b.tap.Close()
	b.x.in, b.x.out, b.x.bytes = b.tap.in, b.tap.out, b.tap.n
	return err
}

type exhaustedError struct{ retryAfter string }

func (e *exhaustedError) Error() string { return "no account can serve" }

// proxyError answers what reached no upstream answer.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	x := exchangeOf(r.Context())
	provider := x.key.Provider
	var mbe *http.MaxBytesError
	var ex *exhaustedError
	switch {
	case errors.As(err, &ex):
		x.status = http.StatusTooManyRequests
		if ex.retryAfter != "" {
			w.Header().Set("Retry-After", ex.retryAfter)
		}
		msg := "authvault gateway: no account of " + x.key.String() + " can serve this request now"
		if ex.retryAfter != "" {
			msg += "; the soonest is ready in " + ex.retryAfter + "s"
		} else {
			msg += "; none will be ready without an operator (log in again or enable an account)"
		}
		writeError(w, provider, x.status, "authvault_accounts_exhausted", msg)
	case errors.As(err, &mbe):
		x.status = http.StatusRequestEntityTooLarge
		writeError(w, provider, x.status, "request_too_large", fmt.Sprintf("authvault gateway: the request body is larger than %d bytes", mbe.Limit))
	case errors.Is(err, pool.ErrNoAccounts):
		x.status = http.StatusServiceUnavailable
		writeError(w, provider, x.status, "no_accounts", "authvault gateway: the vault holds no account of "+x.key.String()+" (add one with vaultkey accounts add-key or vaultkey login)")
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
		x.status, x.err = 499, r.Context().Err()
	default:
		// A *url.Error names the URL, whose query a client may have filled
		// with anything: say what failed without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s upstream: %w", ue.Op, ue.Err)
		}
		x.status, x.err = http.StatusBadGateway, err
		writeError(w, provider, x.status, "upstream_error", "authvault gateway: the upstream request failed: "+err.Error())
	}
}

// observe follows the transport's events for the request they belong to,
// and counts rotations, refreshes and cooldowns.
func (g *Gateway) observe(e transport.Event) {
	var x *exchange
	if e.Context != nil {
		x = exchangeOf(e.Context)
	}
	switch e.Kind {
	case transport.EventAttempt:
		if x != nil {
			x.account = e.Account
			x.attempts++
		}
	case transport.EventRotate:
		reason := e.Reason
		if reason == "" {
			reason = strconv.Itoa(e.Status)
		}
		g.metrics.rotations.WithLabelValues(e.Account.Provider, reason).Inc()
		g.log.Info("rotate", "provider", e.Account.Provider, "namespace", e.Account.Namespace,
			"from", e.From.Label, "to", e.Account.Label, "status", e.Status, "reason", e.Reason)
	case transport.EventCooldown:
		if d := e.Until.Sub(e.Time); d > 0 {
			g.metrics.cooldown.WithLabelValues(e.Account.Provider, e.Account.Label).Add(d.Seconds())
		}
	case transport.EventRefresh:
		result := "refreshed"
		switch {
		case e.Err != nil:
			result = "failed"
		case e.Adopted:
			result = "adopted"
		}
		g.metrics.refreshes.WithLabelValues(e.Account.Provider, result).Inc()
	}
}

// observedTransport sends upstream requests, timing them and keeping each
// account's last rate-limit headers, from every answer: the 429 that made
// the request move on included.
type observedTransport struct {
	next    http.RoundTripper
	g       *Gateway
	latency prometheus.Observer // the provider's upstream latency
}

func (t *observedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	t.latency.Observe(time.Since(start).Seconds())
	if err == nil {
		if x := exchangeOf(req.Context()); x != nil && x.account != (records.ID{}) {
			t.g.usage.SeeRateLimit(x.account, resp.Header, t.g.cfg.now())
		}
	}
	return resp, err
}

// forward serves /PROVIDER[@NAMESPACE]/PATH.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request) {
	ep := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	seg, rest := ep, "/"
	if i := strings.IndexByte(ep, '/'); i >= 0 {
		seg, rest = ep[:i], ep[i:]
	}
	seg, err := url.PathUnescape(seg)
	provider, ns, hasNS := strings.Cut(seg, "@")
	if !hasNS {
		ns = records.DefaultNamespace
	}
	key := pool.Key{Provider: provider, Namespace: ns}
	if err != nil || (records.ID{Provider: provider, Namespace: ns, Label: "x"}).Validate() != nil {
		writeError(w, "", http.StatusNotFound, "not_found", "authvault gateway: address a provider: http://HOST/PROVIDER/… (or /PROVIDER@NAMESPACE/…)")
		return
	}
	a, ok := adapters.Lookup(provider)
	if !ok {
		writeError(w, provider, http.StatusNotFound, "unknown_provider", fmt.Sprintf("authvault gateway: no provider %q (known: %s)", provider, strings.Join(adapters.Providers(), ", ")))
		return
	}
	x := &exchange{key: key, rest: rest, start: time.Now()}
	defer g.finish(x, r)
	client, ok, err := g.clients.authenticate(r.Context(), r.Header)
	if err != nil {
		// Fail closed: a client list that does not read (rolled back,
		// tampered with) admits no one.
		x.status, x.err = http.StatusUnauthorized, err
		writeError(w, provider, x.status, "invalid_api_key", "authvault gateway: the client list cannot be read, so no client token is accepted; see the gateway's log")
		return
	}
	if !ok {
		x.status = http.StatusUnauthorized
		writeError(w, provider, x.status, "invalid_api_key", "authvault gateway: missing or unknown client token (create one with: vaultkey clients add NAME)")
		return
	}
	x.client = client
	if r.Header.Get("Upgrade") != "" {
		// WebSocket transports (Codex's Responses over WebSocket) are not
		// forwarded: their clients fall back to HTTP and SSE.
		x.status = http.StatusNotImplemented
		writeError(w, provider, x.status, "upgrade_not_supported", "authvault gateway: protocol upgrades (WebSocket) are not forwarded; use HTTP and SSE (Codex: supports_websockets = false)")
		return
	}
	if dotSegments(rest) {
		x.status = http.StatusBadRequest
		writeError(w, provider, x.status, "invalid_path", "authvault gateway: the path holds . or .. segments")
		return
	}
	if r.ContentLength > g.cfg.maxBody {
		x.status = http.StatusRequestEntityTooLarge
		writeError(w, provider, x.status, "request_too_large", fmt.Sprintf("authvault gateway: the request body is larger than %d bytes", g.cfg.maxBody))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, g.cfg.maxBody)
	}
	up, err := g.upstreamFor(r.Context(), key, a)
	if err != nil {
		x.status, x.err = http.StatusServiceUnavailable, err
		writeError(w, provider, x.status, "unavailable", "authvault gateway: "+err.Error())
		return
	}
	up.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x)))
}

func dotSegments(p string) bool {
	for s := range strings.SplitSeq(p, "/") {
		if s == "." || s == ".." || strings.EqualFold(s, "%2e") || strings.EqualFold(s, "%2e%2e") ||
			strings.EqualFold(s, ".%2e") || strings.EqualFold(s, "%2e.") {
			return true
		}
	}
	return false
}

// finish counts and logs a request once its answer is written.
func (g *Gateway) finish(x *exchange, r *http.Request) {
	if x.status == 0 {
		x.status = http.StatusBadGateway
	}
	g.metrics.request(x)
	g.usage.Record(usage.Exchange{Account: x.account, Client: x.client, Status: x.status, InputTokens: x.in, OutputTokens: x.out})
	if !g.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{
		slog.String("client", x.client),
		slog.String("provider", x.key.Provider),
		slog.String("namespace", x.key.Namespace),
		slog.String("account", x.account.Label),
		slog.String("method", r.Method),
		slog.String("path", x.rest),
		slog.Int("status", x.status),
		slog.Duration("latency", time.Since(x.start)),
		slog.Int64("bytes", x.bytes),
		slog.Int("attempts", x.attempts),
	}
	if x.in > 0 || x.out > 0 {
		attrs = append(attrs, slog.Int64("input_tokens", x.in), slog.Int64("output_tokens", x.out))
	}
	if x.err != nil {
		attrs = append(attrs, slog.String("error", x.err.Error()))
	}
	g.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

// slogWriter sends the reverse proxy's own log lines (copy errors) to the
// gateway's logger.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug(strings.TrimSpace(string(p)))
	return len(p), nil
}
