package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// TestGoogleThroughGateway: Gemini CLI's request (API key in
// x-goog-api-key, SSE with alt=sse) reaches the account's origin with the
// account's key and the path and query kept, and no key in the URL.
func TestGoogleThroughGateway(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]}}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":2}}\r\n\r\n")
	})
	v, _, _ := newTestVault(t)
	addKeys(t, v, "google", up.URL, "first")
	e := newGateway(t, v)
	resp := e.do("POST", "/google/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key="+e.token, `{"contents":[]}`,
		http.Header{"X-Goog-Api-Key": {e.token}})
	if body := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(body, `"hi"`) {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	s := up.seen()
	if len(s) != 1 || s[0].path != "/v1beta/models/gemini-2.5-pro:streamGenerateContent" || s[0].query != "alt=sse" {
		t.Fatalf("upstream saw %+v", s)
	}
	if got := s[0].header.Get("X-Goog-Api-Key"); got != "key-first" {
		t.Fatalf("upstream key %q", got)
	}
}

// TestSessionStaysOnItsAccount: with round-robin, requests carrying one
// session id (Claude Code's header, or the generic one) stay on one
// account; requests without alternate.
func TestSessionStaysOnItsAccount(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "second", "third")
	e := newGateway(t, v, WithPoolOptions(pool.WithStrategy(pool.RoundRobin)))
	send := func(h http.Header) string {
		h.Set("X-Api-Key", e.token)
		before := len(up.seen())
		readBody(t, e.do("POST", "/anthropic/v1/messages", `{}`, h))
		return up.keys()[before]
	}
	for _, hdr := range []string{"X-Claude-Code-Session-Id", "X-Session-Id"} {
		first := send(http.Header{hdr: {"conv-" + hdr}})
		for i := 0; i < 3; i++ {
			if got := send(http.Header{hdr: {"conv-" + hdr}}); got != first {
				t.Fatalf("%s: request %d went to %s, the session is on %s", hdr, i, got, first)
			}
		}
	}
	a, b := send(http.Header{}), send(http.Header{})
	if a == b {
		t.Fatalf("round-robin without a session sent both to %s", a)
	}
}

// TestRefreshCountedOnce: an expired OAuth token is refreshed before the
// request is sent, once for concurrent requests, and the metrics say so.
func TestRefreshCountedOnce(t *testing.T) {
	var grants atomic.Int32
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]string
		json.NewDecoder(r.Body).Decode(&req)
		grants.Add(1)
		if req["refresh_token"] != "rt-0" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		time.Sleep(20 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-1","refresh_token":"rt-1","expires_in":3600,"token_type":"Bearer"}`)
	}))
	t.Cleanup(tokenSrv.Close)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, anthropicOK)
	})
	v, _, _ := newTestVault(t)
	_, err := v.Put(context.Background(), &records.Record{Provider: "anthropic", Namespace: "default", Label: "sub",
		Kind: records.KindOAuth, OAuth: &records.OAuth{Access: "at-0", Refresh: "rt-0", Expiry: time.Now().Add(-time.Minute),
			ClientID: "client", TokenURL: tokenSrv.URL}, Meta: map[string]string{adapters.MetaBaseURL: up.URL}})
	if err != nil {
		t.Fatal(err)
	}
	e := newGateway(t, v)
	done := make(chan int)
	for i := 0; i < 4; i++ {
		go func() {
			resp := e.do("POST", "/anthropic/v1/messages", `{}`, nil)
			readBody(t, resp)
			done <- resp.StatusCode
		}()
	}
	for i := 0; i < 4; i++ {
		if code := <-done; code != 200 {
			t.Errorf("status %d", code)
		}
	}
	if n := grants.Load(); n != 1 {
		t.Fatalf("%d refresh grants, want 1", n)
	}
	// An exchange is counted when its handler returns, just after the
	// client has read the answer.
	waitFor(t, func() bool {
		return value(e.scrape(), "authvault_gateway_requests_total", map[string]string{"account": "sub", "status": "200"}) == 4
	})
	mfs := e.scrape()
	if got := value(mfs, "authvault_gateway_refreshes_total", map[string]string{"provider": "anthropic", "result": "refreshed"}); got != 1 {
		t.Errorf("refreshes metric %v, want 1", got)
	}
	if strings.Contains(e.logs.String(), "at-1") || strings.Contains(e.logs.String(), "rt-") {
		t.Errorf("a token in the log:\n%s", e.logs.String())
	}
}

// TestRejectedTokenRefreshedInOneRequest: the provider answers 401 to a
// token that has not expired by its clock; the gateway refreshes it and
// sends the request again before the client sees anything.
func TestRejectedTokenRefreshedInOneRequest(t *testing.T) {
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-new","refresh_token":"rt-new","expires_in":3600,"token_type":"Bearer"}`)
	}))
	t.Cleanup(tokenSrv.Close)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer at-new" {
			w.WriteHeader(401)
			io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"OAuth token has expired"}}`)
			return
		}
		io.WriteString(w, anthropicOK)
	})
	v, _, _ := newTestVault(t)
	_, err := v.Put(context.Background(), &records.Record{Provider: "anthropic", Namespace: "default", Label: "sub",
		Kind: records.KindOAuth, OAuth: &records.OAuth{Access: "at-old", Refresh: "rt-old", Expiry: time.Now().Add(time.Hour),
			ClientID: "client", TokenURL: tokenSrv.URL}, Meta: map[string]string{adapters.MetaBaseURL: up.URL}})
	if err != nil {
		t.Fatal(err)
	}
	e := newGateway(t, v)
	resp := e.do("POST", "/anthropic/v1/messages", `{}`, nil)
	if body := readBody(t, resp); resp.StatusCode != 200 || body != anthropicOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if got := up.keys(); len(got) != 2 || got[0] != "at-old" || got[1] != "at-new" {
		t.Fatalf("upstream saw %v", got)
	}
}
