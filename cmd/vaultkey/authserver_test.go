package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAuth is an OAuth 2.0 authorization server for login tests, on a
// loopback httptest server: an authorization endpoint that approves at
// once (redirecting to the redirect_uri with a code), a code page for the
// paste flows, a token endpoint that checks the PKCE verifier, redirect
// URI and client id of each code exchange, a device authorization
// endpoint, and GitHub's Copilot token exchange.
type fakeAuth struct {
	*httptest.Server
	t testing.TB

	// token answers a token request (a code exchange that passed the
	// checks, or a device poll) with a status and a JSON body.
	token func(params map[string]string) (int, any)
	// device answers a device authorization request; nil answers a code
	// with interval 1.
	device func(params map[string]string) (int, any)
	// copilot answers the Copilot token exchange for a GitHub token.
	copilot func(githubToken string) (int, any)

	mu        sync.Mutex
	grants    map[string]grant
	authorize []url.Values
	tokens    []map[string]string
	devices   []map[string]string
}

type grant struct{ challenge, redirect, clientID string }

// Paths of fakeAuth.
const (
	fakeAuthorizePath = "/authorize"
	fakeTokenPath     = "/token"
	fakeCodePath      = "/code"
	fakeDevicePath    = "/device/code"
	fakeVerifyURL     = "https://verify.example.test/device"
)

func newFakeAuth(t testing.TB) *fakeAuth {
	f := &fakeAuth{t: t, grants: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc(fakeAuthorizePath, f.handleAuthorize)
	mux.HandleFunc("/oauth"+fakeAuthorizePath, f.handleAuthorize) // issuer-style
	mux.HandleFunc(fakeTokenPath, f.handleToken)
	mux.HandleFunc("/oauth"+fakeTokenPath, f.handleToken)
	mux.HandleFunc(fakeDevicePath, f.handleDevice)
	mux.HandleFunc(fakeCodePath, func(w http.ResponseWriter, r *http.Request) {
		// What a provider's code page shows the user to copy.
		fmt.Fprintf(w, "%s#%s\n", r.URL.Query().Get("code"), r.URL.Query().Get("state"))
	})
	mux.HandleFunc("/copilot_internal/v2/token", func(w http.ResponseWriter, r *http.Request) {
		gh, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
		if !ok || f.copilot == nil {
			writeJSONReply(w, 401, map[string]string{"message": "Bad credentials"})
			return
		}
		status, body := f.copilot(gh)
		writeJSONReply(w, status, body)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAuth) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.authorize = append(f.authorize, q)
	f.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case err != nil || redirect.Scheme == "":
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	case q.Get("client_id") == "" || q.Get("response_type") != "code":
		http.Error(w, "bad client_id or response_type", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}
	code := "code-" + base64.RawURLEncoding.EncodeToString([]byte(q.Get("code_challenge")))[:16]
	f.mu.Lock()
	f.grants[code] = grant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), clientID: q.Get("client_id")}
	f.mu.Unlock()
	v := redirect.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (f *fakeAuth) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	params := map[string]string{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &params); err != nil {
			writeJSONReply(w, 400, map[string]string{"error": "invalid_request"})
			return
		}
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			writeJSONReply(w, 400, map[string]string{"error": "invalid_request"})
			return
		}
		for k := range form {
			params[k] = form.Get(k)
		}
	}
	f.mu.Lock()
	f.tokens = append(f.tokens, params)
	g, known := f.grants[params["code"]]
	delete(f.grants, params["code"]) // codes are single-use
	f.mu.Unlock()
	if params["grant_type"] == "authorization_code" {
		sum := sha256.Sum256([]byte(params["code_verifier"]))
		switch {
		case !known:
			writeJSONReply(w, 400, map[string]string{"error": "invalid_grant", "error_description": "unknown code"})
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			writeJSONReply(w, 400, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
			return
		case params["redirect_uri"] != g.redirect:
			writeJSONReply(w, 400, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
			return
		case params["client_id"] != g.clientID:
			writeJSONReply(w, 400, map[string]string{"error": "invalid_client"})
			return
		}
	}
	if f.token == nil {
		writeJSONReply(w, 400, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	status, reply := f.token(params)
	writeJSONReply(w, status, reply)
}

func (f *fakeAuth) handleDevice(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		writeJSONReply(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	params := map[string]string{}
	for k := range r.PostForm {
		params[k] = r.PostForm.Get(k)
	}
	f.mu.Lock()
	f.devices = append(f.devices, params)
	f.mu.Unlock()
	if f.device != nil {
		status, body := f.device(params)
		writeJSONReply(w, status, body)
		return
	}
	writeJSONReply(w, 200, map[string]any{
		"device_code": "device-code-CANARY-0001", "user_code": "WXYZ-1234",
		"verification_uri": fakeVerifyURL, "expires_in": 600, "interval": 1,
	})
}

// tokenRequests returns the fields of every token request so far.
func (f *fakeAuth) tokenRequests() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.tokens...)
}

// authorizeRequests returns the query of every authorization request.
func (f *fakeAuth) authorizeRequests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.authorize...)
}

// deviceRequests returns the fields of every device authorization request.
func (f *fakeAuth) deviceRequests() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.devices...)
}

func writeJSONReply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// browse is a browser whose user approves at once: it follows u and its
// redirects (to vaultkey's loopback listener, or to the code page) and
// returns the final page. The loopback listener may close the connection
// as soon as it has the code, before its page is written: that is status
// 0 and the error's text.
func browse(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// browseElsewhere is a browser on another machine: the user approves, and
// the redirect to a localhost address it cannot reach is not followed.
// It returns the URL that browser tried to load, which the user copies.
func browseElsewhere(t *testing.T, u string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	resp.Body.Close()
	return resp.Header.Get("Location")
}

// fakeJWT returns an unsigned JWT with the claims; the signature part
// carries a canary.
func fakeJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2lnLUNBTkFSWQ"
}

// proc is a vaultkey process that the test talks to while it runs:
// reading its standard error line by line, writing its standard input.
type proc struct {
	s      *sandbox
	args   []string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout bytes.Buffer
	lines  chan string
	read   chan struct{} // closed when stderr reached EOF

	mu     sync.Mutex
	stderr strings.Builder
}

// start runs vaultkey with args in the background.
func (s *sandbox) start(args ...string) *proc {
	s.t.Helper()
	p := &proc{s: s, args: args, lines: make(chan string, 1024), read: make(chan struct{})}
	p.cmd = exec.Command(vaultkeyBin, args...)
	p.cmd.Env = s.environ()
	p.cmd.Dir = s.root
	p.cmd.Stdout = &p.stdout
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		s.t.Fatal(err)
	}
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() {
		defer close(p.read)
		defer close(p.lines)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for lines this far on
			}
		}
	}()
	s.t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// waitLine returns the submatches of the first line of standard error,
// from the ones not seen yet, that matches re.
func (p *proc) waitLine(re *regexp.Regexp) []string {
	p.s.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.s.t.Fatalf("vaultkey %s ended before printing a line matching %s:\n%s", strings.Join(p.args, " "), re, p.errText())
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			p.s.t.Fatalf("vaultkey %s printed no line matching %s:\n%s", strings.Join(p.args, " "), re, p.errText())
		}
	}
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// wait closes standard input, waits for the exit and checks its status.
func (p *proc) wait(want int) result {
	p.s.t.Helper()
	p.stdin.Close()
	done := make(chan error, 1)
	go func() {
		<-p.read
		done <- p.cmd.Wait()
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		p.s.t.Fatalf("vaultkey %s did not end:\n%s", strings.Join(p.args, " "), p.errText())
	}
	r := result{stdout: p.stdout.String(), stderr: p.errText()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		p.s.t.Fatalf("vaultkey %s: %v", strings.Join(p.args, " "), err)
	}
	p.s.record(strings.Join(p.args, " "), r, false)
	if r.code != want {
		p.s.t.Fatalf("vaultkey %s: want exit %d, got %s", strings.Join(p.args, " "), want, r)
	}
	return r
}
