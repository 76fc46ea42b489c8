package oauthtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Paths served.
const (
	AuthorizePath = "/authorize"
	TokenPath     = "/token"
	CodePagePath  = "/code" // the paste form's redirect target
	DevicePath    = "/device/code"
)

// Reply is an endpoint's answer.
type Reply struct {
	Status int
	Body   any // marshalled as JSON; a string is sent as is
	// Header is added to the answer; its Content-Type replaces the
	// default application/json.
	Header http.Header
}

// Server is the fake. Set the hooks before the flow starts; when the flow
// runs in another process (a command under test), set them with Set, so
// that the race detector sees them ordered before the handlers read them.
type Server struct {
	*httptest.Server
	t testing.TB

	// Token answers a token request whose code (for
	// authorization_code) passed the checks. params holds the form or
	// JSON fields. Nil answers 400 unsupported_grant_type.
	Token func(params map[string]string) Reply
	// Device answers a device authorization request; nil answers a
	// fixed code: device_code "test-device-code", user_code "WXYZ-1234",
	// verification_uri VerificationURL, expires_in 1800, interval 5.
	Device func(params map[string]string) Reply
	// Deny makes the authorization endpoint redirect with
	// error=access_denied.
	Deny bool
	// StateOverride, when set, replaces the state in the redirect.
	StateOverride string

	mux       *http.ServeMux
	mu        sync.Mutex
	grants    map[string]grant
	authorize []url.Values
	tokens    []map[string]string
	bodyTypes []string
	device    []map[string]string
}

type grant struct {
	challenge, redirect, clientID string
}

// New starts a server, closed when the test ends.
func New(t testing.TB) *Server {
	mux := http.NewServeMux()
	s := &Server{t: t, grants: map[string]grant{}, mux: mux}
	mux.HandleFunc(AuthorizePath, s.handleAuthorize)
	mux.HandleFunc(TokenPath, s.handleToken)
	// The same endpoints where an issuer-based client expects them.
	mux.HandleFunc("/oauth"+AuthorizePath, s.handleAuthorize)
	mux.HandleFunc("/oauth"+TokenPath, s.handleToken)
	mux.HandleFunc(DevicePath, s.handleDevice)
	mux.HandleFunc(CodePagePath, func(w http.ResponseWriter, r *http.Request) {
		// What a provider's code page displays for the user to copy.
		fmt.Fprintf(w, "%s#%s\n", r.URL.Query().Get("code"), r.URL.Query().Get("state"))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Handle serves pattern (a ServeMux pattern) with the replies of answer:
// a provider's endpoint beyond the OAuth ones, such as a token exchange.
func (s *Server) Handle(pattern string, answer func(r *http.Request) Reply) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		writeReply(w, answer(r))
	})
}

// AuthorizeURL, TokenURL and CodePageURL are the endpoints' URLs.
func (s *Server) AuthorizeURL() string { return s.URL + AuthorizePath }

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.URL + TokenPath }

// DeviceURL is the device authorization endpoint.
func (s *Server) DeviceURL() string { return s.URL + DevicePath }

// VerificationURL is the verification_uri of the default device answer.
const VerificationURL = "https://verify.example.test/device"

// CodePageURL is a redirect target that shows "code#state".
func (s *Server) CodePageURL() string { return s.URL + CodePagePath }

// AuthorizeRequests returns the query of every authorization request.
func (s *Server) AuthorizeRequests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.authorize...)
}

// TokenRequests returns the fields of every token request.
func (s *Server) TokenRequests() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.tokens...)
}

// TokenContentTypes returns the Content-Type of every token request.
func (s *Server) TokenContentTypes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodyTypes...)
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.authorize = append(s.authorize, q)
	s.mu.Unlock()
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
	state := q.Get("state")
	hooks := s.hooks()
	if hooks.StateOverride != "" {
		state = hooks.StateOverride
	}
	v := redirect.Query()
	v.Set("state", state)
	if hooks.Deny {
		v.Set("error", "access_denied")
		v.Set("error_description", "The user denied access")
	} else {
		code := "code-" + base64.RawURLEncoding.EncodeToString([]byte(q.Get("code_challenge")))[:16]
		s.mu.Lock()
		s.grants[code] = grant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), clientID: q.Get("client_id")}
		s.mu.Unlock()
		v.Set("code", code)
	}
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	params := map[string]string{}
	ctype := r.Header.Get("Content-Type")
	if strings.HasPrefix(ctype, "application/json") {
		if err := json.Unmarshal(body, &params); err != nil {
			WriteJSON(w, 400, map[string]string{"error": "invalid_request", "error_description": "body is not a JSON object of strings"})
			return
		}
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			WriteJSON(w, 400, map[string]string{"error": "invalid_request"})
			return
		}
		for k := range form {
			params[k] = form.Get(k)
		}
	}
	if user, pass, ok := r.BasicAuth(); ok && params["client_id"] == "" {
		// HTTP Basic client authentication (RFC 6749 section 2.3.1), as a
		// confidential client sends it.
		params["client_id"], params["client_secret"] = user, pass
	}
	s.mu.Lock()
	s.tokens = append(s.tokens, params)
	s.bodyTypes = append(s.bodyTypes, ctype)
	g, known := s.grants[params["code"]]
	if known {
		delete(s.grants, params["code"]) // codes are single-use
	}
	s.mu.Unlock()
	if params["grant_type"] == "authorization_code" {
		sum := sha256.Sum256([]byte(params["code_verifier"]))
		switch {
		case !known:
			WriteJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "unknown code " + params["code"]})
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			WriteJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
			return
		case params["redirect_uri"] != g.redirect:
			WriteJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
			return
		case params["client_id"] != g.clientID:
			WriteJSON(w, 400, map[string]string{"error": "invalid_client"})
			return
		}
	}
	token := s.hooks().Token
	if token == nil {
		WriteJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	writeReply(w, token(params))
}

func (s *Server) handleDevice(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		WriteJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	params := map[string]string{}
	for k := range r.PostForm {
		params[k] = r.PostForm.Get(k)
	}
	s.mu.Lock()
	s.device = append(s.device, params)
	s.mu.Unlock()
	if device := s.hooks().Device; device != nil {
		writeReply(w, device(params))
		return
	}
	WriteJSON(w, 200, map[string]any{
		"device_code": "test-device-code", "user_code": "WXYZ-1234",
		"verification_uri": VerificationURL, "expires_in": 1800, "interval": 5,
	})
}

// DeviceRequests returns the fields of every device authorization request.
func (s *Server) DeviceRequests() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.device...)
}

func writeReply(w http.ResponseWriter, rep Reply) {
	for k, vs := range rep.Header {
		w.Header()[k] = append([]string(nil), vs...)
	}
	WriteJSON(w, rep.Status, rep.Body)
}

// WriteJSON answers status with body marshalled as JSON (a string is
// sent as is), as application/json unless a Content-Type is already set.
func WriteJSON(w http.ResponseWriter, status int, body any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	if s, ok := body.(string); ok {
		io.WriteString(w, s)
		return
	}
	_ = json.NewEncoder(w).Encode(body)
}

// Visit is a browser whose user approves at once: it follows u and its
// redirects (to the loopback listener, or to the code page) and returns
// the final page's status and text.
func Visit(u string) (status int, page string, err error) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// Location is a browser on another machine: the user approves, the
// authorization server redirects to a localhost address that browser
// cannot reach, and Location returns the URL it tried to load, which the
// user copies.
func Location(u string) (string, error) {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(u)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("Location"), nil
}

// Browser returns an Open hook that behaves like a browser whose user
// approves at once (see Visit) and returns the final page's text. Use it
// as LoginConfig.Open; for the paste form, feed the page text to
// LoginConfig.Prompt.
func Browser(t testing.TB, page chan<- string) func(string) error {
	return func(u string) error {
		status, b, err := Visit(u)
		if err != nil {
			return err
		}
		if page != nil {
			page <- b
		}
		if status != http.StatusOK && page == nil {
			t.Logf("browser: %s answered %d", u, status)
		}
		return nil
	}
}

// PageReader returns a reader that yields the first page a Browser sent
// on ch: the paste form's "what the user copies".
func PageReader(ch <-chan string) io.Reader {
	return &pageReader{ch: ch}
}

type pageReader struct {
	ch <-chan string
	r  io.Reader
}

func (p *pageReader) Read(b []byte) (int, error) {
	if p.r == nil {
		p.r = strings.NewReader(<-p.ch)
	}
	return p.r.Read(b)
}

// UnreachableBrowser returns an Open hook for a browser on another
// machine (see Location): the URL the user copies is sent on page.
func UnreachableBrowser(t testing.TB, page chan<- string) func(string) error {
	return func(u string) error {
		loc, err := Location(u)
		if err != nil {
			return err
		}
		page <- loc
		return nil
	}
}

// hookSet is a copy of the hooks, read under the lock.
type hookSet struct {
	Token         func(map[string]string) Reply
	Device        func(map[string]string) Reply
	Deny          bool
	StateOverride string
}

func (s *Server) hooks() hookSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return hookSet{Token: s.Token, Device: s.Device, Deny: s.Deny, StateOverride: s.StateOverride}
}

// Set runs fn, which sets hooks, under the server's lock.
func (s *Server) Set(fn func(*Server)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}
