//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authvault/authvault/records"
)

// provider429 is a fake Anthropic: 429 for the key "sk-first-…", 200
// with usage for the others; a request to /v1/stream streams five events
// 100 ms apart.
type provider429 struct {
	*httptest.Server
	mu   sync.Mutex
	keys []string
}

func newProvider429(t *testing.T) *provider429 {
	p := &provider429{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		key := r.Header.Get("X-Api-Key")
		p.mu.Lock()
		p.keys = append(p.keys, key)
		p.mu.Unlock()
		if strings.HasPrefix(key, "sk-first") {
			w.Header().Set("Retry-After", "30")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			io.WriteString(w, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit."}}`)
			return
		}
		w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "49")
		w.Header().Set("Anthropic-Ratelimit-Requests-Limit", "50")
		if r.URL.Path == "/v1/stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			for i := 0; i < 5; i++ {
				if i > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				fmt.Fprintf(w, "data: {\"n\":%d}\n\n", i)
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_1","type":"message","content":[],"usage":{"input_tokens":12,"output_tokens":8}}`)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *provider429) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.keys...)
}

// setBaseURL gives an account a base URL of its own, as a gateway test
// needs: its requests go to the fake provider.
func (s *sandbox) setBaseURL(id records.ID, base string) {
	s.t.Helper()
	v := openVault(s.t, s.dir, s.identitiesFromFile())
	defer v.Close()
	_, err := v.Update(context.Background(), id, func(r *records.Record) error {
		if r.Meta == nil {
			r.Meta = map[string]string{}
		}
		r.Meta["base_url"] = base
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

// addClient creates a gateway client and returns its token.
func (s *sandbox) addClient(name string) string {
	s.t.Helper()
	r := s.runWith(runOpts{stdoutMayKey: true}, "clients", "add", name)
	if r.code != 0 {
		s.t.Fatalf("clients add: %s", r)
	}
	tok := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(tok, "avk-") || strings.Contains(r.stderr, tok) {
		s.t.Fatalf("clients add printed %q, stderr %q", r.stdout, r.stderr)
	}
	s.addSecret(tok)
	return tok
}

var servingLine = regexp.MustCompile(`serving on http://(\S+) `)

// serve starts vaultkey serve and returns it with its address.
func (s *sandbox) serve(args ...string) (*proc, string) {
	s.t.Helper()
	p := s.start(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	return p, p.waitLine(servingLine)[1]
}

func gatewayRequest(t *testing.T, method, url, token, body string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Api-Key", token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func drainBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

func TestServeRefusesRemoteListen(t *testing.T) {
	s := newSandbox(t)
	s.initFile()
	r := s.run(1, "serve", "--listen", "0.0.0.0:0")
	if !strings.Contains(r.stderr, "--allow-remote") {
		t.Fatalf("no hint: %s", r)
	}
	// --allow-remote without a client token is refused too.
	r = s.run(1, "serve", "--listen", "0.0.0.0:0", "--allow-remote")
	if !strings.Contains(r.stderr, "clients add") {
		t.Fatalf("no hint: %s", r)
	}
	s.run(2, "serve", "--listen", "nonsense")
}

// newFailoverSandbox is a vault with two Anthropic accounts, "first"
// and "second", whose requests reach up (which answers the first with a
// 429), and the token of a client "laptop".
func newFailoverSandbox(t *testing.T) (up *provider429, s *sandbox, tok string) {
	up = newProvider429(t)
	s = newSandbox(t)
	s.initFile()
	s.addKey("anthropic", "first", "sk-first-0123456789")
	s.addKey("anthropic", "second", "sk-second-0123456789")
	for _, l := range []string{"first", "second"} {
		s.setBaseURL(records.ID{Provider: "anthropic", Namespace: "default", Label: l}, up.URL)
	}
	return up, s, s.addClient("laptop")
}

func TestServe(t *testing.T) {
	up, s, tok := newFailoverSandbox(t)
	addrFile := filepath.Join(s.root, "addr")
	p, addr := s.serve("--max-body", "4096", "--addr-file", addrFile)
	if b, err := os.ReadFile(addrFile); err != nil || strings.TrimSpace(string(b)) != addr {
		t.Fatalf("--addr-file holds %q (%v), want %s", b, err, addr)
	}
	base := "http://" + addr + "/anthropic"

	// No token, a wrong one, a provider key: 401, nothing forwarded.
	for i, tk := range []string{"", "avk-wrong", "sk-second-0123456789"} {
		resp := gatewayRequest(t, "POST", base+"/v1/messages", tk, `{}`)
		if body := drainBody(resp); resp.StatusCode != 401 || !strings.Contains(body, "authentication_error") {
			t.Fatalf("token %d of (none, wrong, a provider key): %d %s", i, resp.StatusCode, body)
		}
	}
	// DNS rebinding: 421.
	resp := gatewayRequest(t, "POST", base+"/v1/messages", tok, `{}`, "Host", "evil.example")
	if drainBody(resp); resp.StatusCode != 421 {
		t.Fatalf("Host evil.example: %d", resp.StatusCode)
	}
	// Too large: 413.
	resp = gatewayRequest(t, "POST", base+"/v1/messages", tok, strings.Repeat("x", 5000))
	if drainBody(resp); resp.StatusCode != 413 {
		t.Fatalf("oversize body: %d", resp.StatusCode)
	}
	if n := len(up.seen()); n != 0 {
		t.Fatalf("the upstream got %d requests from refused ones", n)
	}

	// A 429 on the first account: the same request succeeds on the second.
	resp = gatewayRequest(t, "POST", base+"/v1/messages", tok, `{"model":"m"}`)
	if body := drainBody(resp); resp.StatusCode != 200 || !strings.Contains(body, `"msg_1"`) {
		t.Fatalf("rotation: %d %s", resp.StatusCode, body)
	}
	if got := fmt.Sprint(up.seen()); got != "[sk-first-0123456789 sk-second-0123456789]" {
		t.Fatalf("upstream saw %s", got)
	}

	// SIGTERM while a stream runs: the stream completes, then exit 0.
	resp = gatewayRequest(t, "POST", base+"/v1/stream", tok, `{"stream":true}`)
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, `"n":0`) {
		t.Fatalf("first event %q, %v", line, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLine(regexp.MustCompile(`stopping`))
	rest, err := io.ReadAll(br)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(rest), `"n":4`) {
		t.Fatalf("the stream was cut at SIGTERM: %q, %v", rest, err)
	}
	r := p.wait(0)
	for _, want := range []string{"client=laptop", "account=second", "status=200", "status=401", "status=421", "status=413"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("access log lacks %s:\n%s", want, r.stderr)
		}
	}

	// Usage was kept: per client (the 413, the rotated request, the
	// stream), and the quota per account.
	r = s.run(0, "clients", "list", "--json")
	var cs []struct {
		Name  string `json:"name"`
		Usage struct {
			Requests     int64 `json:"requests"`
			InputTokens  int64 `json:"input_tokens"`
			OutputTokens int64 `json:"output_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Name != "laptop" || cs[0].Usage.Requests != 3 || cs[0].Usage.InputTokens != 12 || cs[0].Usage.OutputTokens != 8 {
		t.Fatalf("clients list: %s", r.stdout)
	}
	r = s.run(0, "accounts", "list")
	if !regexp.MustCompile(`anthropic/default/second\s+requests 49/50`).MatchString(r.stdout) {
		t.Errorf("accounts list shows no remaining quota:\n%s", r.stdout)
	}
	var accts []struct {
		ID    string `json:"id"`
		Usage struct {
			Requests  int64 `json:"requests"`
			RateLimit struct {
				Headers map[string]string `json:"headers"`
			} `json:"rate_limit"`
		} `json:"usage"`
		Remaining string `json:"remaining"`
	}
	if err := json.Unmarshal([]byte(s.run(0, "accounts", "list", "--json").stdout), &accts); err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.ID == "anthropic/default/second" && (a.Usage.Requests != 2 || a.Remaining != "requests 49/50" ||
			a.Usage.RateLimit.Headers["anthropic-ratelimit-requests-remaining"] != "49") {
			t.Errorf("accounts list --json: %+v", a)
		}
	}
	s.run(0, "clients", "rm", "laptop")
	s.run(1, "clients", "rm", "laptop")
	s.run(2, "clients", "add", "bad name")
	s.addClient("a")
	s.addClient("b")
	s.run(0, "clients", "reset")
	if r := s.run(0, "clients", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("after reset: %s", r.stdout)
	}
}

// TestServeTwoProcessesRefreshOnce: two gateways on one vault (a
// directory, or Redis), one expired access token whose refresh token is
// single-use, concurrent requests through both: one refresh grant, every
// request served, and the usage of both processes added up.
func TestServeTwoProcessesRefreshOnce(t *testing.T) {
	t.Run("dir", func(t *testing.T) { testTwoGatewaysRefreshOnce(t, false) })
	t.Run("redis", func(t *testing.T) { testTwoGatewaysRefreshOnce(t, true) })
}

func testTwoGatewaysRefreshOnce(t *testing.T, onRedis bool) {
	var store string
	if onRedis {
		store = redisURL(t)
	}
	var grants, reused atomic.Int32
	var mu sync.Mutex
	issued := map[string]bool{"rt-0": true}
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			GrantType    string `json:"grant_type"`
			RefreshToken string `json:"refresh_token"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		defer mu.Unlock()
		if req.GrantType != "refresh_token" || !issued[req.RefreshToken] {
			reused.Add(1)
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		delete(issued, req.RefreshToken) // single use
		n := grants.Add(1)
		issued[fmt.Sprintf("rt-%d", n)] = true
		time.Sleep(50 * time.Millisecond) // a slow provider widens the race
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"sk-ant-oat-%d","refresh_token":"rt-%d","expires_in":3600,"token_type":"Bearer"}`, n, n)
	}))
	defer tokenSrv.Close()
	var served atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk-ant-oat-1" {
			w.WriteHeader(401)
			io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
			return
		}
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg","usage":{"input_tokens":1,"output_tokens":1}}`)
	}))
	defer api.Close()

	s := newSandbox(t)
	s.initFile()
	v := openVault(t, s.dir, s.identitiesFromFile())
	_, err := v.Put(context.Background(), &records.Record{
		Provider: "anthropic", Namespace: "default", Label: "sub", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: "sk-ant-oat-0", Refresh: "rt-0", Expiry: time.Now().Add(-time.Hour),
			ClientID: "test-client", TokenURL: tokenSrv.URL + "/v1/oauth/token"},
		Meta: map[string]string{"base_url": api.URL},
	})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	tok := s.addClient("ci")
	var dirArgs []string
	if onRedis {
		s.run(0, "copy", s.dir, store)
		dirArgs = []string{"--dir", store}
	}
	p1, a1 := s.serve(dirArgs...)
	p2, a2 := s.serve(dirArgs...)

	var wg sync.WaitGroup
	codes := make(chan int, 16)
	for i := 0; i < 16; i++ {
		addr := a1
		if i%2 == 1 {
			addr = a2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := gatewayRequest(t, "POST", "http://"+addr+"/anthropic/v1/messages", tok, `{}`)
			drainBody(resp)
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("a request got %d", c)
		}
	}
	if g, r := grants.Load(), reused.Load(); g != 1 || r != 0 {
		t.Fatalf("%d refresh grants and %d reuses of a spent refresh token, want 1 and 0", g, r)
	}
	if n := served.Load(); n != 16 {
		t.Fatalf("upstream served %d, want 16", n)
	}
	for _, p := range []*proc{p1, p2} {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.wait(0)
	}
	r := s.run(0, append([]string{"clients", "list"}, dirArgs...)...)
	if !regexp.MustCompile(`ci\s+\S+\s+16\s+16\s+16`).MatchString(r.stdout) {
		t.Errorf("clients list does not add up both gateways' 16 requests and tokens:\n%s", r.stdout)
	}
}

// TestServeTwoProcessesShareCooldowns: a 429 met through one gateway
// cools the account down for the other: its next request goes straight
// to the second account.
func TestServeTwoProcessesShareCooldowns(t *testing.T) {
	up, s, tok := newFailoverSandbox(t)
	p1, a1 := s.serve()
	p2, a2 := s.serve()
	for _, addr := range []string{a1, a2} {
		resp := gatewayRequest(t, "POST", "http://"+addr+"/anthropic/v1/messages", tok, `{}`)
		if drainBody(resp); resp.StatusCode != 200 {
			t.Fatalf("through %s: %d", addr, resp.StatusCode)
		}
	}
	if got := fmt.Sprint(up.seen()); got != "[sk-first-0123456789 sk-second-0123456789 sk-second-0123456789]" {
		t.Fatalf("upstream saw %s: the second gateway did not honour the first's cooldown", got)
	}
	for _, p := range []*proc{p1, p2} {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.wait(0)
	}
}

// TestServeClientsSurviveExportImport: clients are records of the vault,
// so a backup carries them: a token keeps working on a vault restored
// from it. They are not accounts.
func TestServeClientsSurviveExportImport(t *testing.T) {
	up := newProvider429(t)
	s := newSandbox(t)
	s.initFile()
	s.addKey("anthropic", "second", "sk-second-0123456789")
	s.setBaseURL(records.ID{Provider: "anthropic", Namespace: "default", Label: "second"}, up.URL)
	tok := s.addClient("laptop")
	if r := s.run(0, "accounts", "list"); strings.Contains(r.stdout, "laptop") || strings.Contains(r.stdout, "gateway") {
		t.Errorf("accounts list shows the client:\n%s", r.stdout)
	}

	backup, idPath := backupOf(t, s)
	dir := filepath.Join(s.root, "restored")
	s.run(0, "import", backup, "--dir", dir, "-i", idPath)
	if r := s.run(0, "clients", "list", "--dir", dir); !strings.Contains(r.stdout, "laptop") {
		t.Fatalf("clients list of the restored vault:\n%s", r.stdout)
	}
	p, addr := s.serve("--dir", dir)
	resp := gatewayRequest(t, "POST", "http://"+addr+"/anthropic/v1/messages", tok, `{"model":"m"}`)
	if body := drainBody(resp); resp.StatusCode != 200 {
		t.Fatalf("the token on the restored vault: %d %s", resp.StatusCode, body)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.wait(0)
}
