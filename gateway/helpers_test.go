package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// seen is one request as the fake upstream received it.
type seen struct {
	method, path, query string
	header              http.Header
	body                string
}

// fakeUpstream emulates a provider: it records every request and answers
// with the handler the test sets.
type fakeUpstream struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []seen
	answer func(w http.ResponseWriter, r *http.Request, n int)
}

func newUpstream(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *fakeUpstream {
	u := &fakeUpstream{answer: answer}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		n := len(u.reqs)
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		u.answer(w, r, n)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *fakeUpstream) seen() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.reqs...)
}

// keys returns the credential of each request received, in order.
func (u *fakeUpstream) keys() []string {
	var out []string
	for _, s := range u.seen() {
		k := s.header.Get("X-Api-Key")
		if k == "" {
			k = strings.TrimPrefix(s.header.Get("Authorization"), "Bearer ")
		}
		out = append(out, k)
	}
	return out
}

// newTestVault creates a vault and returns it with its identity.
func newTestVault(t *testing.T) (*vault.Vault, string, *age.HybridIdentity) {
	t.Helper()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "vault")
	v, err := vault.Create(context.Background(), dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v, dir, id
}

// addKeys adds API-key accounts of provider, "key-LABEL" each, served at
// base.
func addKeys(t *testing.T, v *vault.Vault, provider, base string, labels ...string) {
	t.Helper()
	for _, l := range labels {
		rec := &records.Record{Provider: provider, Namespace: records.DefaultNamespace, Label: l,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret("key-" + l)},
			Meta: map[string]string{adapters.MetaBaseURL: base}}
		if _, err := v.Put(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
}

// gatewayEnv is a gateway on a test server with one client token.
type gatewayEnv struct {
	t     *testing.T
	v     *vault.Vault
	g     *Gateway
	srv   *httptest.Server
	token string
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newGateway(t *testing.T, v *vault.Vault, opts ...Option) *gatewayEnv {
	t.Helper()
	ctx := context.Background()
	tok, err := AddClient(ctx, v, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	e := &gatewayEnv{t: t, v: v, token: tok, logs: &syncBuffer{}}
	opts = append([]Option{WithLogger(newLogger(e.logs)), WithFlushInterval(0)}, opts...)
	g, err := New(ctx, v, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e.g = g
	e.srv = httptest.NewServer(g)
	t.Cleanup(func() {
		e.srv.Close()
		g.Close()
		if strings.Contains(e.logs.String(), e.token) || strings.Contains(e.logs.String(), "key-") {
			t.Errorf("a token or a key appears in the log:\n%s", e.logs.String())
		}
	})
	return e
}

// do sends a request through the gateway with the client token in
// header (x-api-key when empty).
func (e *gatewayEnv) do(method, path, body string, header http.Header) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if header == nil {
		req.Header.Set("X-Api-Key", e.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const anthropicOK = `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":11,"output_tokens":7}}`

const anthropic429 = `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit."}}`

// rateLimitFirst answers 429 to key-first and 200 to the others.
func rateLimitFirst(w http.ResponseWriter, r *http.Request, _ int) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("X-Api-Key") == "key-first" {
		w.Header().Set("Retry-After", "30")
		w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "0")
		w.Header().Set("Anthropic-Ratelimit-Requests-Limit", "50")
		w.WriteHeader(429)
		io.WriteString(w, anthropic429)
		return
	}
	w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "49")
	w.Header().Set("Anthropic-Ratelimit-Requests-Limit", "50")
	io.WriteString(w, anthropicOK)
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
