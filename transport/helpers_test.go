package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/internal/vaulttest"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// fakeClock is shared by the pool and the transport.
type fakeClock = vaulttest.Clock

func newFakeClock() *fakeClock {
	return vaulttest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
}

// upstream is a fake OpenAI-compatible provider: each account's token has a
// behaviour, and every request is recorded.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	behave   map[string]func(w http.ResponseWriter, r *http.Request) // by bearer token
	requests []seen
}

type seen struct {
	Token string
	Body  string
}

func newUpstream(t testing.TB) *upstream {
	u := &upstream{behave: map[string]func(http.ResponseWriter, *http.Request){}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.requests = append(u.requests, seen{Token: tok, Body: string(body)})
		fn := u.behave[tok]
		u.mu.Unlock()
		if fn == nil {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		fn(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) set(token string, fn func(http.ResponseWriter, *http.Request)) {
	u.mu.Lock()
	u.behave[token] = fn
	u.mu.Unlock()
}

func (u *upstream) seen() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.requests...)
}

func (u *upstream) tokens() []string {
	var out []string
	for _, s := range u.seen() {
		out = append(out, s.Token)
	}
	return out
}

func ok(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
}

func rateLimited(retryAfter int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
	}
}

// env is a vault with accounts, a pool and a transport over one upstream.
type env struct {
	t      testing.TB
	clock  *fakeClock
	dir    string
	id     *age.X25519Identity
	v      *vault.Vault
	pool   *pool.Pool
	tr     *Transport
	up     *upstream
	ids    []records.ID
	client *http.Client
}

type envOpt struct {
	accounts int
	oauth    bool
	tokenURL string
	trOpts   []Option
	poolOpts []pool.Option
}

func newEnv(t testing.TB, o envOpt) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, clock: newFakeClock(), up: newUpstream(t)}
	id, _ := age.GenerateX25519Identity()
	e.id = id
	e.dir = t.TempDir() + "/vault"
	v, err := vault.Create(ctx, e.dir, []age.Recipient{id.Recipient()}, vault.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.v = v
	t.Cleanup(func() { v.Close() })
	err = v.Batch(ctx, func(b *vault.Batch) error {
		for i := 1; i <= o.accounts; i++ {
			r := &records.Record{Provider: "fake", Namespace: "default", Label: fmt.Sprintf("acct%d", i)}
			if o.oauth {
				r.Kind = records.KindOAuth
				r.OAuth = &records.OAuth{Access: records.Secret(fmt.Sprintf("tok%d", i)), Refresh: records.Secret(fmt.Sprintf("ref%d", i)),
					Expiry: e.clock.Now().Add(time.Hour), ClientID: "test-client", TokenURL: o.tokenURL}
			} else {
				r.Kind = records.KindAPI
				r.API = &records.APIKey{Key: records.Secret(fmt.Sprintf("tok%d", i))}
			}
			if err := b.Put(r); err != nil {
				return err
			}
			e.ids = append(e.ids, r.ID())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.pool, err = pool.Open(ctx, v, pool.Key{Provider: "fake", Namespace: "default"}, append([]pool.Option{pool.WithClock(e.clock.Now)}, o.poolOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.pool.Close() })
	a, err := bearer.New("fake")
	if err != nil {
		t.Fatal(err)
	}
	e.tr = New(e.pool, a, append([]Option{WithOrigins(e.up.URL)}, o.trOpts...)...)
	e.client = &http.Client{Transport: e.tr}
	return e
}

func (e *env) post(ctx context.Context, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", e.up.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return e.client.Do(req)
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// countingTransport tracks response bodies so tests can assert every one
// that was not handed to the caller got closed.
type countingTransport struct {
	base  http.RoundTripper
	open  atomic.Int64
	total atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	c.open.Add(1)
	c.total.Add(1)
	resp.Body = &countedBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	c    *countingTransport
	once sync.Once
}

func (b *countedBody) Close() error {
	b.once.Do(func() { b.c.open.Add(-1) })
	return b.ReadCloser.Close()
}

// withSleep replaces how the transport waits for an account, so a test
// moves the fake clock instead of waiting.
func withSleep(fn func(done <-chan struct{}, d time.Duration) bool) Option {
	return func(c *config) { c.sleep = fn }
}
