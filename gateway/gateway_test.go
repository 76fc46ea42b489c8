package gateway

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/usage"
)

func TestRotatesOnRateLimitInOneRequest(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "first", "second")
	e := newGateway(t, v)

	resp := e.do("POST", "/anthropic/v1/messages?beta=true", `{"model":"claude-sonnet-4-5","max_tokens":5}`, nil)
	body := readBody(t, resp)
	if resp.StatusCode != 200 || body != anthropicOK {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if diff := cmp.Diff([]string{"key-first", "key-second"}, up.keys()); diff != "" {
		t.Fatalf("upstream credentials (-want +got):\n%s", diff)
	}
	for _, s := range up.seen() {
		if s.path != "/v1/messages" || s.query != "beta=true" || s.body != `{"model":"claude-sonnet-4-5","max_tokens":5}` {
			t.Errorf("upstream got %s %s?%s %q", s.method, s.path, s.query, s.body)
		}
		for k, vs := range s.header {
			if strings.Contains(strings.Join(vs, " "), e.token) {
				t.Errorf("the client token reached the upstream in %s", k)
			}
		}
		for k := range s.header {
			if strings.HasPrefix(k, "X-Forwarded") || k == "Forwarded" {
				t.Errorf("upstream got %s", k)
			}
		}
	}
	if got := resp.Header.Get("Anthropic-Ratelimit-Requests-Remaining"); got != "49" {
		t.Errorf("rate-limit header not passed on: %q", got)
	}
}

func TestTokenRequired(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "first")
	addKeys(t, v, "openai", up.URL+"/v1", "first")
	e := newGateway(t, v)
	cases := []struct {
		name, path string
		header     http.Header
		want       string
	}{
		{"no token", "/anthropic/v1/messages", http.Header{}, `"authentication_error"`},
		{"wrong x-api-key", "/anthropic/v1/messages", http.Header{"X-Api-Key": {"avk-wrong"}}, `"authentication_error"`},
		{"provider key instead", "/anthropic/v1/messages", http.Header{"X-Api-Key": {"key-first"}}, `"authentication_error"`},
		{"wrong bearer", "/openai/v1/chat/completions", http.Header{"Authorization": {"Bearer avk-wrong"}}, `"invalid_api_key"`},
		{"basic auth", "/openai/v1/chat/completions", http.Header{"Authorization": {"Basic " + e.token}}, `"invalid_api_key"`},
		{"google shape", "/google/v1beta/models", http.Header{"X-Goog-Api-Key": {"nope"}}, `"UNAUTHENTICATED"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do("POST", c.path, `{}`, c.header)
			body := readBody(t, resp)
			if resp.StatusCode != 401 || !strings.Contains(body, c.want) {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("CORS header %s", k)
				}
			}
		})
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("upstream got %d requests, want 0", n)
	}
	// Each header a client may use works.
	for _, h := range []http.Header{
		{"X-Api-Key": {e.token}},
		{"Authorization": {"Bearer " + e.token}},
		{"X-Goog-Api-Key": {e.token}},
	} {
		resp := e.do("POST", "/anthropic/v1/messages", `{}`, h)
		readBody(t, resp)
		if resp.StatusCode == 401 {
			t.Errorf("%v: 401", h)
		}
	}
	// A removed client is refused at its next request.
	if err := RemoveClient(context.Background(), v, "laptop"); err != nil {
		t.Fatal(err)
	}
	resp := e.do("POST", "/anthropic/v1/messages", `{}`, nil)
	readBody(t, resp)
	if resp.StatusCode != 401 {
		t.Fatalf("removed client: status %d", resp.StatusCode)
	}
}

func TestHostAllowlist(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "second")
	e := newGateway(t, v, WithHosts("gateway.lan"))
	for host, want := range map[string]int{
		"evil.example":        421,
		"evil.example:8787":   421,
		"127.0.0.1.nip.io":    421,
		"localhost:8787":      200,
		"127.0.0.1":           200,
		"[::1]:8787":          200,
		"gateway.lan:8787":    200,
		"GATEWAY.LAN":         200,
		"gateway.lan.evil.io": 421,
	} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/anthropic/v1/messages", strings.NewReader(`{}`))
		req.Host = host
		req.Header.Set("X-Api-Key", e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		if resp.StatusCode != want {
			t.Errorf("Host %s: status %d, want %d", host, resp.StatusCode, want)
		}
	}
	if n := len(up.seen()); n != 5 {
		t.Errorf("upstream got %d requests, want 5 (the allowed hosts only)", n)
	}
}

func TestBodyBound(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "second")
	e := newGateway(t, v, WithMaxBody(1024))
	big := strings.Repeat("x", 2048)
	// With a Content-Length.
	resp := e.do("POST", "/anthropic/v1/messages", big, nil)
	if body := readBody(t, resp); resp.StatusCode != 413 || !strings.Contains(body, "request_too_large") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	// Chunked, with no length announced.
	req, _ := http.NewRequest("POST", e.srv.URL+"/anthropic/v1/messages", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("X-Api-Key", e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != 413 {
		t.Fatalf("chunked: status %d body %s", resp.StatusCode, body)
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("upstream got %d requests", n)
	}
	resp = e.do("POST", "/anthropic/v1/messages", strings.Repeat("x", 1000), nil)
	if readBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("a body under the bound: %d", resp.StatusCode)
	}
}

func TestUnknownProviderAndPaths(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "second")
	e := newGateway(t, v)
	for path, want := range map[string]int{
		"/nope/v1/messages":                   404,
		"/":                                   404,
		"/anthropic/v1/../../x":               400,
		"/anthropic/v1/%2e%2e/x":              400,
		"/anthropic@work/v1/messages":         503, // no account in that namespace
		"/anthropic@default/v1/messages":      200,
		"/anthropic/v1/messages/count_tokens": 200,
	} {
		resp := e.do("POST", path, `{}`, nil)
		if body := readBody(t, resp); resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d: %s", path, resp.StatusCode, want, body)
		}
	}
	paths := map[string]bool{}
	for _, s := range up.seen() {
		paths[s.path] = true
	}
	if len(up.seen()) != 2 || !paths["/v1/messages"] || !paths["/v1/messages/count_tokens"] {
		t.Errorf("upstream saw %+v", up.seen())
	}
}

func TestExhaustedIsProviderShaped429(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "first")
	e := newGateway(t, v)
	// The only account answers 429: the upstream's answer goes back as is.
	resp := e.do("POST", "/anthropic/v1/messages", `{}`, nil)
	body := readBody(t, resp)
	if resp.StatusCode != 429 || body != anthropic429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("first: status %d Retry-After %q body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Now it cools down: nothing is sent, the gateway answers itself.
	resp = e.do("POST", "/anthropic/v1/messages", `{}`, nil)
	body = readBody(t, resp)
	if resp.StatusCode != 429 || !strings.Contains(body, `"type":"rate_limit_error"`) || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second: status %d Retry-After %q body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if n := len(up.seen()); n != 1 {
		t.Fatalf("upstream got %d requests, want 1", n)
	}
}

// TestStreamIsIncremental: the upstream sends SSE events 100 ms apart;
// the client reads the first long before the last is sent, and the usage
// in the stream is counted.
func TestStreamIsIncremental(t *testing.T) {
	lastSent := make(chan time.Time, 1)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		events := []string{
			`event: message_start` + "\n" + `data: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"output_tokens":1}}}`,
			`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}`,
			`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}`,
			`event: message_delta` + "\n" + `data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}`,
			`event: message_stop` + "\n" + `data: {"type":"message_stop"}`,
		}
		for i, ev := range events {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			io.WriteString(w, ev+"\n\n")
			w.(http.Flusher).Flush()
		}
		lastSent <- time.Now()
	})
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "second")
	e := newGateway(t, v)
	resp := e.do("POST", "/anthropic/v1/messages", `{"stream":true}`, nil)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	firstSeen := time.Now()
	rest, _ := io.ReadAll(br)
	last := <-lastSent
	if gap := last.Sub(firstSeen); gap < 300*time.Millisecond {
		t.Fatalf("the first event arrived only %v before the last was sent: the stream was buffered", gap)
	}
	if !strings.Contains(string(rest), "message_stop") {
		t.Fatalf("stream: %s", rest)
	}
	resp.Body.Close()
	// Usage: counted once the exchange ends.
	waitFor(t, func() bool {
		if err := e.g.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		u, err := usage.Read(context.Background(), v)
		return err == nil && u.Accounts[records.ID{Provider: "anthropic", Namespace: "default", Label: "second"}.String()] != nil
	})
	if err := e.g.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	u, err := usage.Read(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	a := u.Accounts["anthropic/default/second"]
	if a == nil || a.InputTokens != 25 || a.OutputTokens != 15 || a.Requests != 1 {
		t.Fatalf("usage %+v", a)
	}
	if c := u.Clients["laptop"]; c == nil || c.InputTokens != 25 || c.OutputTokens != 15 {
		t.Fatalf("client usage %+v", c)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClientDisconnectCancelsUpstream: a client that goes away mid-stream
// ends the upstream request.
func TestClientDisconnectCancelsUpstream(t *testing.T) {
	cancelled := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		for {
			if _, err := io.WriteString(w, "data: {\"type\":\"ping\"}\n\n"); err != nil {
				break
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				close(cancelled)
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		close(cancelled)
	})
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "second")
	e := newGateway(t, v)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/anthropic/v1/messages", strings.NewReader(`{"stream":true}`))
	req.Header.Set("X-Api-Key", e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
}

func TestWebSocketUpgradeRefused(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "openai", up.URL+"/v1", "second")
	e := newGateway(t, v)
	resp := e.do("GET", "/openai/v1/responses", "", http.Header{"Authorization": {"Bearer " + e.token},
		"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}})
	if body := readBody(t, resp); resp.StatusCode != 501 || !strings.Contains(body, "supports_websockets") {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("upstream got %d requests", n)
	}
}

func TestNoCORS(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "second")
	e := newGateway(t, v)
	req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/anthropic/v1/messages", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != 401 {
		t.Errorf("preflight: status %d", resp.StatusCode)
	}
	for k := range resp.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("CORS header %s", k)
		}
	}
}

// TestUpstreamDownIs502WithoutTheURL: an unreachable upstream is a 502
// whose message and log line do not repeat the request's query.
func TestUpstreamDownIs502WithoutTheURL(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "openai", up.URL+"/v1", "second")
	up.Close()
	e := newGateway(t, v)
	resp := e.do("POST", "/openai/v1/chat/completions?note=avk-secret-in-query", `{}`, nil)
	body := readBody(t, resp)
	if resp.StatusCode != 502 || !strings.Contains(body, "upstream_error") {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "avk-secret-in-query") || strings.Contains(e.logs.String(), "avk-secret-in-query") {
		t.Fatalf("the query was repeated:\n%s\n%s", body, e.logs.String())
	}
}
