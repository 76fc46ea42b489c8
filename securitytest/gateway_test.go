package securitytest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authvault/authvault/gateway"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// gatewaySetup is a gateway on a fresh vault holding one Anthropic
// account with the canary API key, served by a fake provider that
// records what reaches it.
type gatewaySetup struct {
	f       *fixture
	c       *canaries
	v       *vault.Vault
	srv     *httptest.Server
	token   string
	log     *lockedBuffer
	mu      sync.Mutex
	reached []http.Header
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newGatewaySetup(t *testing.T, opts ...gateway.Option) *gatewaySetup {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	g := &gatewaySetup{f: f, c: f.c, v: f.v, log: &lockedBuffer{}}
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		g.mu.Lock()
		g.reached = append(g.reached, r.Header.Clone())
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"type":"message","content":[],"usage":{"input_tokens":1,"output_tokens":1}}`)
	}))
	t.Cleanup(provider.Close)
	_, err := f.v.Put(ctx, &records.Record{Provider: "anthropic", Namespace: "gw", Label: "only",
		Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(f.c.APIKey)},
		Meta: map[string]string{"base_url": provider.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if g.token, err = gateway.AddClient(ctx, f.v, "tool"); err != nil {
		t.Fatal(err)
	}
	g.c.add("client token", g.token)
	logger := slog.New(slog.NewTextHandler(g.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw, err := gateway.New(ctx, f.v, append([]gateway.Option{gateway.WithLogger(logger), gateway.WithFlushInterval(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	g.srv = httptest.NewServer(gw)
	t.Cleanup(func() {
		g.srv.Close()
		gw.Close()
		g.c.check(t, "the gateway's log", g.log.String())
	})
	return g
}

func (g *gatewaySetup) upstreamRequests() []http.Header {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]http.Header(nil), g.reached...)
}

// send sends a request to the gateway and returns the answer, whose
// headers and body are checked for secrets.
func (g *gatewaySetup) send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var h bytes.Buffer
	resp.Header.Write(&h)
	g.c.check(t, "an answer of the gateway", h.String()+string(b))
	for k := range resp.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("the gateway sent the CORS header %s", k)
		}
	}
	return resp, string(b)
}

func (g *gatewaySetup) request(t *testing.T, method, path, body string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return req
}

// A request without the gateway's own client token (none, a wrong one,
// the provider's key itself, the token in the wrong scheme) is answered
// 401 and nothing reaches the provider. With the token, the provider
// gets the account's key and never the token; the answers and the log
// hold neither.
func TestGatewayClientTokenRequired(t *testing.T) {
	g := newGatewaySetup(t)
	for _, h := range [][]string{
		nil,
		{"X-Api-Key", "avk-not-a-token"},
		{"X-Api-Key", g.c.APIKey},
		{"Authorization", "Bearer " + g.c.APIKey},
		{"Authorization", "Basic " + g.token},
		{"Authorization", g.token},
	} {
		resp, _ := g.send(t, g.request(t, "POST", "/anthropic@gw/v1/messages", `{}`, h...))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%v: status %d, want 401", h, resp.StatusCode)
		}
	}
	if n := len(g.upstreamRequests()); n != 0 {
		t.Fatalf("%d requests without a token reached the provider", n)
	}
	for _, h := range [][]string{{"X-Api-Key", g.token}, {"Authorization", "Bearer " + g.token}, {"X-Goog-Api-Key", g.token}} {
		resp, _ := g.send(t, g.request(t, "POST", "/anthropic@gw/v1/messages", `{}`, h...))
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", h[0], resp.StatusCode)
		}
	}
	for _, h := range g.upstreamRequests() {
		var b bytes.Buffer
		h.Write(&b)
		if strings.Contains(b.String(), g.token) {
			t.Errorf("the client token reached the provider:\n%s", b.String())
		}
		if h.Get("X-Api-Key") != g.c.APIKey {
			t.Errorf("the provider got x-api-key %q, want the account's key", h.Get("X-Api-Key"))
		}
	}
}

// Only requests addressed to this machine are served: any other Host,
// including one given in an absolute request URI, is 421 (a page whose
// DNS name was rebound to 127.0.0.1 cannot use the gateway). Forwarded
// headers are neither trusted nor passed on.
func TestGatewayHostAndForwardedHeaders(t *testing.T) {
	g := newGatewaySetup(t)
	req := g.request(t, "POST", "/anthropic@gw/v1/messages", `{}`, "X-Api-Key", g.token)
	req.Host = "attacker.example"
	if resp, _ := g.send(t, req); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host attacker.example: status %d, want 421", resp.StatusCode)
	}
	// An absolute-form request line names another host.
	conn, err := net.Dial("tcp", g.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST http://attacker.example/anthropic@gw/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: "+g.token+"\r\nContent-Length: 2\r\n\r\n{}")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("absolute-form request to attacker.example: status %d, want 421", resp.StatusCode)
	}
	if n := len(g.upstreamRequests()); n != 0 {
		t.Fatalf("%d misdirected requests reached the provider", n)
	}
	resp, _ = g.send(t, g.request(t, "POST", "/anthropic@gw/v1/messages", `{}`, "X-Api-Key", g.token,
		"X-Forwarded-For", "10.9.9.9", "X-Forwarded-Host", "attacker.example", "Forwarded", "for=10.9.9.9"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, h := range g.upstreamRequests() {
		for k := range h {
			if strings.HasPrefix(k, "X-Forwarded-") || k == "Forwarded" {
				t.Errorf("the provider got %s: %v", k, h[k])
			}
		}
	}
	// A CORS preflight gets no CORS answer.
	g.send(t, g.request(t, "OPTIONS", "/anthropic@gw/v1/messages", "", "Origin", "https://attacker.example",
		"Access-Control-Request-Method", "POST"))
}

// Nothing in a request chooses where the credential goes: paths, queries
// and headers that name another server leave the account's origin as the
// only destination.
func TestGatewayUpstreamNotChosenByRequest(t *testing.T) {
	var hits int
	var mu sync.Mutex
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer attacker.Close()
	g := newGatewaySetup(t)
	host := strings.TrimPrefix(attacker.URL, "http://")
	for _, path := range []string{
		"/anthropic@gw/" + attacker.URL + "/v1/messages",
		"/anthropic@gw//" + host + "/v1/messages",
		"/anthropic@gw/v1/messages?base_url=" + attacker.URL,
		"/anthropic@gw/v1/messages/..%2f..%2f" + host,
	} {
		g.send(t, g.request(t, "POST", path, `{}`, "X-Api-Key", g.token,
			"X-Base-Url", attacker.URL, "Anthropic-Base-Url", attacker.URL, "X-Upstream", attacker.URL))
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Fatalf("the attacker's server got %d requests", hits)
	}
}

// Request bodies are bounded: over the bound (with a length or chunked)
// the answer is 413 and nothing is sent.
func TestGatewayBodyBounded(t *testing.T) {
	g := newGatewaySetup(t, gateway.WithMaxBody(4<<10))
	big := strings.Repeat("x", 5<<10)
	resp, _ := g.send(t, g.request(t, "POST", "/anthropic@gw/v1/messages", big, "X-Api-Key", g.token))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("with a length: %d", resp.StatusCode)
	}
	req := g.request(t, "POST", "/anthropic@gw/v1/messages", "", "X-Api-Key", g.token)
	req.Body = io.NopCloser(strings.NewReader(big))
	req.ContentLength = -1
	if resp, _ := g.send(t, req); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: %d", resp.StatusCode)
	}
	if n := len(g.upstreamRequests()); n != 0 {
		t.Fatalf("%d oversize requests reached the provider", n)
	}
}

// A removed client stays removed. Its record file put back alone is
// named by no manifest: the token is refused. Put back with the manifest
// it was committed with, the token is refused and the vault reports the
// rollback. An older version of a client's record put under its current
// name is a rollback for a process that never read it.
func TestGatewayRemovedClientStaysRemoved(t *testing.T) {
	g := newGatewaySetup(t)
	ctx := context.Background()
	status := func(tok string) int {
		t.Helper()
		resp, _ := g.send(t, g.request(t, "POST", "/anthropic@gw/v1/messages", `{}`, "X-Api-Key", tok))
		return resp.StatusCode
	}
	files := func() map[string][]byte {
		out := map[string][]byte{}
		names, _ := filepath.Glob(filepath.Join(g.f.dir, "records", "*.avr"))
		for _, n := range append(names, filepath.Join(g.f.dir, "manifest.avm")) {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = b
		}
		return out
	}
	if got := status(g.token); got != 200 {
		t.Fatalf("status %d", got)
	}
	saved := files()
	other := g.f.open(t) // the operator's process
	if err := gateway.RemoveClient(ctx, other, "tool"); err != nil {
		t.Fatal(err)
	}
	if got := status(g.token); got != 401 {
		t.Fatalf("removed client: status %d", got)
	}
	var gone string
	for n := range saved {
		if _, err := os.Stat(n); err != nil {
			gone = n
		}
	}
	if gone == "" {
		t.Fatal("no record file went with the client")
	}

	if err := os.WriteFile(gone, saved[gone], 0o600); err != nil {
		t.Fatal(err)
	}
	if got := status(g.token); got != 401 {
		t.Fatalf("the client's record put back: status %d", got)
	}
	if cs, err := gateway.Clients(ctx, g.f.open(t)); err != nil || len(cs) != 0 {
		t.Fatalf("the client's record put back: clients %v, %v", cs, err)
	}

	// An older version under the current name: the client added again,
	// its new record replaced by the removed one's.
	before := files()
	tok2, err := gateway.AddClient(ctx, other, "tool")
	if err != nil {
		t.Fatal(err)
	}
	g.c.add("second client token", tok2)
	var cur string
	for n := range files() {
		if _, ok := before[n]; !ok {
			cur = n
		}
	}
	if err := os.WriteFile(cur, saved[gone], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.Clients(ctx, g.f.open(t)); !errors.Is(err, vault.ErrRollback) {
		t.Fatalf("an older record under the current name: %v, want ErrRollback", err)
	}
	if got := status(g.token); got != 401 {
		t.Fatalf("an older record under the current name: status %d", got)
	}

	// The record with the manifest it was committed with.
	for n, b := range saved {
		if err := os.WriteFile(n, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if got := status(g.token); got != 401 {
		t.Fatalf("record and manifest put back: status %d", got)
	}
	if _, err := g.v.Verify(ctx); !errors.Is(err, vault.ErrRollback) {
		t.Fatalf("Verify: %v, want ErrRollback", err)
	}
	if !strings.Contains(g.log.String(), "rollback") {
		t.Errorf("the gateway's log does not report the rollback:\n%s", g.log.String())
	}
}
