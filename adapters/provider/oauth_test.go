package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/records"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewPKCE(t *testing.T) {
	p := NewPKCE()
	if len(p.Verifier) < 43 {
		t.Fatalf("verifier length %d < 43", len(p.Verifier))
	}
	sum := sha256.Sum256([]byte(p.Verifier))
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); p.Challenge != want {
		t.Errorf("challenge %q, want S256 of verifier %q", p.Challenge, want)
	}
	if q := NewPKCE(); q.Verifier == p.Verifier {
		t.Error("two verifiers are equal")
	}
	if a, b := newState(), newState(); a == b || len(a) != 43 {
		t.Errorf("states %q %q: want distinct 43-char values", a, b)
	}
}

// tokenServer answers every POST with status and body, recording the
// request.
type tokenServer struct {
	*httptest.Server
	status int
	body   string
	header http.Header
	got    *http.Request
	form   url.Values
	json   map[string]string
}

func newTokenServer(t *testing.T, status int, body string) *tokenServer {
	ts := &tokenServer{status: status, body: body}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.got = r
		b, _ := io.ReadAll(r.Body)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			ts.json = map[string]string{}
			_ = json.Unmarshal(b, &ts.json)
		} else {
			ts.form, _ = url.ParseQuery(string(b))
		}
		for k, v := range ts.header {
			w.Header()[k] = v
		}
		w.WriteHeader(ts.status)
		io.WriteString(w, ts.body)
	}))
	t.Cleanup(ts.Close)
	return ts
}

const (
	secretRefresh = "rt-SECRET-0123456789"
	secretAccess  = "at-SECRET-abcdefghij"
)

func TestPostTokenRequestShapes(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		ts := newTokenServer(t, 200, `{"access_token":"a","expires_in":60}`)
		params := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {secretRefresh}, "client_id": {"cid"}}
		_, err := postToken(context.Background(), ts.Client(), Request{URL: ts.URL, Params: params, JSON: asJSON, Header: http.Header{"Anthropic-Beta": {"x"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := ts.got.Header.Get("Accept"); got != "application/json" {
			t.Errorf("Accept = %q", got)
		}
		if got := ts.got.Header.Get("Anthropic-Beta"); got != "x" {
			t.Errorf("extra header = %q", got)
		}
		want := map[string]string{"grant_type": "refresh_token", "refresh_token": secretRefresh, "client_id": "cid"}
		got := ts.json
		if !asJSON {
			got = map[string]string{}
			for k := range ts.form {
				got[k] = ts.form.Get(k)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("json=%v body (-want +got):\n%s", asJSON, diff)
		}
	}
}

// Exchange sends the authorization_code grant as a form, or as JSON with
// the state, and reports a refusal as a *TokenError.
func TestCodeFlowExchange(t *testing.T) {
	g := &Grant{Code: "code-1", State: "state-1", RedirectURI: "http://localhost:1/callback", PKCE: PKCE{Verifier: "verifier-1"}}
	want := map[string]string{"grant_type": "authorization_code", "code": "code-1", "client_id": "cid", "redirect_uri": g.RedirectURI, "code_verifier": "verifier-1"}
	for _, asJSON := range []bool{false, true} {
		ts := newTokenServer(t, 200, `{"access_token":"`+secretAccess+`","expires_in":60}`)
		tok, err := (&CodeFlow{ClientID: "cid", TokenURL: ts.URL, TokenJSON: asJSON}).Exchange(context.Background(), ts.Client(), g)
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != secretAccess {
			t.Errorf("json=%v: access token not read", asJSON)
		}
		got := ts.json
		wantBody := want
		if asJSON {
			wantBody = map[string]string{"state": "state-1"}
			for k, v := range want {
				wantBody[k] = v
			}
		} else {
			got = map[string]string{}
			for k := range ts.form {
				got[k] = ts.form.Get(k)
			}
		}
		if diff := cmp.Diff(wantBody, got); diff != "" {
			t.Errorf("json=%v body (-want +got):\n%s", asJSON, diff)
		}
	}
	ts := newTokenServer(t, 400, `{"error":"invalid_grant"}`)
	_, err := (&CodeFlow{ClientID: "cid", TokenURL: ts.URL}).Exchange(context.Background(), ts.Client(), g)
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Errorf("refused exchange = %v, want a *TokenError invalid_grant", err)
	}
	adaptertest.NoSecret(t, err, "code-1", "verifier-1")
}

func TestPostTokenSuccess(t *testing.T) {
	ts := newTokenServer(t, 200, `{"access_token":"`+secretAccess+`","refresh_token":"`+secretRefresh+`","id_token":"h.p.s","token_type":"Bearer","scope":"a b,c","expires_in":"3600","account":{"uuid":"u1"}}`)
	tr, err := postToken(context.Background(), ts.Client(), Request{URL: ts.URL, Params: url.Values{}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got := struct {
		Access, Refresh, ID, Type string
		Scopes                    []string
		Expiry                    time.Time
		Extra                     string
	}{tr.AccessToken.Reveal(), tr.RefreshToken.Reveal(), tr.IDToken.Reveal(), tr.TokenType, tr.Scopes(), tr.expiry(now), string(tr.Extra["account"])}
	want := struct {
		Access, Refresh, ID, Type string
		Scopes                    []string
		Expiry                    time.Time
		Extra                     string
	}{secretAccess, secretRefresh, "h.p.s", "Bearer", []string{"a", "b", "c"}, now.Add(time.Hour), `{"uuid":"u1"}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestJSONSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`3600`:        time.Hour,
		`"60"`:        time.Minute,
		`1.5`:         1500 * time.Millisecond,
		`-5`:          0,
		`"soon"`:      0,
		`null`:        0,
		`1e300`:       maxExpiresIn,
		`{"a":1}`:     0,
		`99999999999`: maxExpiresIn,
	} {
		if got := jsonSeconds(json.RawMessage(in)); got != want {
			t.Errorf("jsonSeconds(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestPostTokenErrors(t *testing.T) {
	big := `{"access_token":"` + strings.Repeat("x", maxResponse) + `"}`
	cases := []struct {
		name      string
		status    int
		body      string
		wantToken *TokenError
		wantIs    error
		permanent bool
	}{
		{"rfc6749", 400, `{"error":"invalid_grant","error_description":"Refresh token revoked"}`, &TokenError{400, "invalid_grant", "Refresh token revoked"}, nil, true},
		{"object code", 401, `{"error":{"code":"refresh_token_reused","message":"already used"}}`, &TokenError{401, "refresh_token_reused", "already used"}, nil, true},
		{"object type", 400, `{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}`, &TokenError{400, "invalid_request_error", "bad"}, nil, false},
		{"top-level code", 400, `{"code":"refresh_token_expired","message":"expired"}`, &TokenError{400, "refresh_token_expired", "expired"}, nil, true},
		{"error in 200", 200, `{"error":"authorization_pending"}`, &TokenError{200, "authorization_pending", ""}, nil, false},
		{"html 502", 502, `<html>bad gateway</html>`, &TokenError{502, "", ""}, nil, false},
		{"bare 401", 401, ``, &TokenError{401, "", ""}, nil, true},
		{"server error", 500, `{"error":"server_error"}`, &TokenError{500, "server_error", ""}, nil, false},
		{"hostile code", 400, `{"error":"` + secretRefresh + ` <b>"}`, &TokenError{400, "", ""}, nil, false},
		{"echoed secret", 400, `{"error":"invalid_grant","error_description":"token ` + secretRefresh + ` is revoked"}`, &TokenError{400, "invalid_grant", "token [REDACTED] is revoked"}, nil, true},
		{"control chars", 400, `{"error":"invalid_grant","error_description":"a\u001b[31mb\nc"}`, &TokenError{400, "invalid_grant", "a [31mb c"}, nil, true},
		{"long description", 400, `{"error":"invalid_grant","error_description":"` + strings.Repeat("d", 500) + `"}`, &TokenError{400, "invalid_grant", strings.Repeat("d", maxDescription) + "…"}, nil, true},
		{"invalid json 200", 200, `{not json`, nil, ErrMalformedResponse, false},
		{"no access token", 200, `{"refresh_token":"x"}`, nil, ErrMalformedResponse, false},
		{"array 200", 200, `[1,2]`, nil, ErrMalformedResponse, false},
		{"too large 200", 200, big, nil, ErrMalformedResponse, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := newTokenServer(t, c.status, c.body)
			_, err := postToken(context.Background(), ts.Client(), Request{URL: ts.URL, Params: url.Values{"refresh_token": {secretRefresh}}})
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secretRefresh) || strings.Contains(err.Error(), "xxxxxxxx") {
				t.Fatalf("error leaks request or response content: %q", err)
			}
			if c.wantIs != nil && !errors.Is(err, c.wantIs) {
				t.Fatalf("err = %v, want %v", err, c.wantIs)
			}
			if c.wantToken != nil {
				var te *TokenError
				if !errors.As(err, &te) {
					t.Fatalf("err = %T %v, want *TokenError", err, err)
				}
				if diff := cmp.Diff(c.wantToken, te); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if te.permanent() != c.permanent {
					t.Errorf("Permanent() = %v", te.permanent())
				}
			}
		})
	}
}

func TestPostTokenNetworkError(t *testing.T) {
	_, err := postToken(context.Background(), nil, Request{URL: adaptertest.ClosedURL(t), Params: url.Values{"refresh_token": {secretRefresh}}})
	if err == nil || strings.Contains(err.Error(), secretRefresh) {
		t.Fatalf("err = %v", err)
	}
	re := AsRefreshError("p", err).(*adapters.RefreshError)
	if re.Permanent || re.Status != 0 {
		t.Errorf("network failure mapped to %+v", re)
	}
}

func TestAsRefreshError(t *testing.T) {
	got := AsRefreshError("anthropic", &TokenError{Status: 400, Code: "invalid_grant", Description: "revoked"}).(*adapters.RefreshError)
	if got.Provider != "anthropic" || got.Status != 400 || got.Code != "invalid_grant" || !got.Permanent || got.Err.Error() != "revoked" {
		t.Errorf("got %+v", got)
	}
	got = AsRefreshError("x", fmt.Errorf("wrapped: %w", &TokenError{Status: 503})).(*adapters.RefreshError)
	if got.Permanent || got.Err != nil || got.Status != 503 {
		t.Errorf("got %+v", got)
	}
}

func TestFromRetrieveError(t *testing.T) {
	resp := &http.Response{StatusCode: 400}
	cases := []struct {
		name string
		in   error
		want error
	}{
		{"coded", &oauth2.RetrieveError{Response: resp, ErrorCode: "invalid_grant", ErrorDescription: "Bad " + secretRefresh, Body: []byte("body " + secretRefresh)}, &TokenError{400, "invalid_grant", "Bad [REDACTED]"}},
		{"object body", &oauth2.RetrieveError{Response: resp, Body: []byte(`{"error":{"code":"refresh_token_reused"}}`)}, &TokenError{400, "refresh_token_reused", ""}},
		{"opaque body", &oauth2.RetrieveError{Response: resp, Body: []byte(secretRefresh)}, &TokenError{400, "", ""}},
	}
	for _, c := range cases {
		got := FromRetrieveError(c.in, secretRefresh)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", c.name, diff)
		}
		if strings.Contains(got.Error(), secretRefresh) {
			t.Errorf("%s: leaks: %v", c.name, got)
		}
	}
	plain := errors.New("network down")
	if got := FromRetrieveError(plain); got != plain {
		t.Errorf("non-RetrieveError changed: %v", got)
	}
}

func TestParsePasted(t *testing.T) {
	const st = "STATE123"
	cases := []struct {
		name         string
		in           string
		requireState bool
		want         string
		wantErr      error
	}{
		{"code#state", "abc#" + st + "\n", true, "abc", nil},
		{"wrong state", "abc#OTHER", true, "", ErrStateMismatch},
		{"missing state required", "abc", true, "", ErrStateMismatch},
		{"bare code allowed", "  4/0Abc-def  ", false, "4/0Abc-def", nil},
		{"redirect url", "http://localhost:1455/auth/callback?code=xyz&state=" + st, true, "xyz", nil},
		{"redirect url wrong state", "http://localhost:1455/auth/callback?code=xyz&state=nope", false, "", ErrStateMismatch},
		{"redirect url no state", "http://localhost:1455/auth/callback?code=xyz", true, "", ErrStateMismatch},
		{"empty", "\n", false, "", ErrMissingCode},
		{"empty code with state", "#" + st, true, "", ErrMissingCode},
		{"spaces inside", "ab cd", false, "", ErrMissingCode},
		{"too long", strings.Repeat("a", maxPasted+1), false, "", ErrMissingCode},
	}
	for _, c := range cases {
		got, err := parsePasted(c.in, st, c.requireState)
		if got != c.want || !errors.Is(err, c.wantErr) {
			t.Errorf("%s: parsePasted = %q, %v; want %q, %v", c.name, got, err, c.want, c.wantErr)
		}
	}
	_, err := parsePasted("https://x.test/cb?error=access_denied&error_description=no&state="+st, st, true)
	var ae *AuthorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" || ae.Description != "no" {
		t.Errorf("error redirect: %v", err)
	}
	if _, err := parsePasted("https://x.test/cb?error=access_denied&state=forged", st, true); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("forged error redirect: %v", err)
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoopback(t *testing.T) {
	l, err := listenLoopback(loopbackConfig{Path: "/callback", RedirectHost: "localhost"}, "good")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, _ := url.Parse(l.RedirectURI())
	if u.Hostname() != "localhost" || u.Path != "/callback" || u.Port() == "0" {
		t.Fatalf("redirect URI %q", l.RedirectURI())
	}
	base := "http://127.0.0.1:" + u.Port()
	steps := []struct {
		path   string
		status int
	}{
		{"/other?code=x&state=good", 404},
		{"/callback?code=forged&state=bad", 400},
		{"/callback?code=forged", 400},
		{"/callback?code=real&state=good", 200},
		{"/callback?code=again&state=good", 409},
	}
	for _, s := range steps {
		if got, _ := get(t, base+s.path); got != s.status {
			t.Errorf("GET %s = %d, want %d", s.path, got, s.status)
		}
	}
	code, err := l.Wait(context.Background())
	if code != "real" || err != nil {
		t.Errorf("Wait = %q, %v", code, err)
	}
}

func TestLoopbackErrors(t *testing.T) {
	cases := []struct {
		query string
		want  error
	}{
		{"error=access_denied&error_description=User+said+no&state=s", &AuthorizationError{Code: "access_denied", Description: "User said no"}},
		{"state=s", ErrMissingCode},
	}
	for _, c := range cases {
		l, err := listenLoopback(loopbackConfig{Path: "cb"}, "s")
		if err != nil {
			t.Fatal(err)
		}
		if status, _ := get(t, l.RedirectURI()+"?"+c.query); status != 400 {
			t.Errorf("%s: status %d", c.query, status)
		}
		_, err = l.Wait(context.Background())
		if diff := cmp.Diff(c.want, err, cmp.Comparer(func(a, b error) bool { return a.Error() == b.Error() })); diff != "" {
			t.Errorf("%s: %s", c.query, diff)
		}
		l.Close()
	}
	l, err := listenLoopback(loopbackConfig{}, "s")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Wait = %v", err)
	}
	l.Close()
	if _, err := listenLoopback(loopbackConfig{Port: 70000}, "s"); err == nil {
		t.Error("port 70000 accepted")
	}
}

// authServer is an authorization endpoint that redirects straight back
// with a code, as if the user approved.
func authServer(t *testing.T, code string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		to, err := url.Parse(q.Get("redirect_uri"))
		if err != nil || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			http.Error(w, "bad request", 400)
			return
		}
		v := to.Query()
		v.Set("code", code)
		v.Set("state", q.Get("state"))
		to.RawQuery = v.Encode()
		http.Redirect(w, r, to.String(), http.StatusFound)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestCodeFlowLoopback(t *testing.T) {
	as := authServer(t, "the-code")
	var out strings.Builder
	f := &CodeFlow{
		LoopbackPath: "/cb",
		AuthorizeURL: func(redirect, state string, p PKCE) (string, error) {
			return as.URL + "/authorize?" + url.Values{"redirect_uri": {redirect}, "state": {state}, "code_challenge": {p.Challenge}, "code_challenge_method": {PKCEMethod}}.Encode(), nil
		},
		Open: func(u string) error {
			status, _ := get(t, u)
			if status != 200 {
				t.Errorf("browser saw %d", status)
			}
			return nil
		},
		Out: &out,
	}
	g, err := f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g.Code != "the-code" || !strings.HasPrefix(g.RedirectURI, "http://127.0.0.1:") || g.PKCE.Verifier == "" {
		t.Errorf("grant %+v", g)
	}
	if !strings.Contains(out.String(), as.URL+"/authorize?") {
		t.Errorf("URL not printed: %q", out.String())
	}
}

func TestCodeFlowPaste(t *testing.T) {
	states := make(chan string, 1)
	f := &CodeFlow{
		Mode:               RedirectPaste,
		PasteRedirectURI:   "https://provider.test/code",
		PasteRequiresState: true,
		AuthorizeURL: func(redirect, s string, p PKCE) (string, error) {
			select {
			case states <- s:
			default:
			}
			return "https://provider.test/authorize", nil
		},
		Open: func(string) error { return errors.New("no browser") },
	}
	pr, pw := io.Pipe()
	f.In = pr
	go func() {
		// The state exists only once Run built the URL; the pipe blocks
		// Run's read until then.
		fmt.Fprintf(pw, "pasted-code#%s\n", <-states)
		pw.Close()
	}()
	var out strings.Builder
	f.Out = &out
	g, err := f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g.Code != "pasted-code" || g.RedirectURI != "https://provider.test/code" {
		t.Errorf("grant %+v", g)
	}
	if !strings.Contains(out.String(), "no browser") {
		t.Errorf("open failure not reported: %q", out.String())
	}

	f2 := &CodeFlow{Mode: RedirectPaste, AuthorizeURL: f.AuthorizeURL, In: strings.NewReader("x")}
	if _, err := f2.Run(context.Background()); err == nil {
		t.Error("paste mode without redirect URI accepted")
	}
	f3 := &CodeFlow{Mode: RedirectPaste, PasteRedirectURI: "https://p.test", AuthorizeURL: f.AuthorizeURL, In: strings.NewReader("code#wrong\n"), PasteRequiresState: true}
	if _, err := f3.Run(context.Background()); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("wrong state: %v", err)
	}
}

func TestDeviceFlow(t *testing.T) {
	type step struct {
		status int
		body   string
	}
	cases := []struct {
		name      string
		steps     []step
		wantSleep []time.Duration
		wantErr   error
	}{
		{"pending then slow_down then ok", []step{
			{428, `{"error":"authorization_pending"}`},
			{403, `{"error":"slow_down"}`},
			{200, `{"error":"authorization_pending"}`},
			{200, `{"access_token":"tok","refresh_token":"r","expires_in":3599}`},
		}, []time.Duration{2 * time.Second, 2 * time.Second, 7 * time.Second, 7 * time.Second}, nil},
		{"denied", []step{{400, `{"error":"access_denied"}`}}, []time.Duration{2 * time.Second}, &AuthorizationError{Code: "access_denied"}},
		{"expired", []step{{400, `{"error":"expired_token"}`}}, []time.Duration{2 * time.Second}, ErrDeviceCodeExpired},
		{"other error", []step{{400, `{"error":"invalid_client"}`}}, []time.Duration{2 * time.Second}, &TokenError{400, "invalid_client", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			var polls []url.Values
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				if r.URL.Path == "/device" {
					io.WriteString(w, `{"device_code":"dc","user_code":"ABCD-EFGH","verification_url":"https://v.test","expires_in":1800,"interval":2}`)
					return
				}
				polls = append(polls, r.PostForm)
				st := c.steps[n]
				n++
				w.WriteHeader(st.status)
				io.WriteString(w, st.body)
			}))
			defer s.Close()
			dc, err := RequestDeviceCode(context.Background(), s.Client(), Request{URL: s.URL + "/device", Params: url.Values{"client_id": {"c"}}})
			if err != nil {
				t.Fatal(err)
			}
			if dc.UserCode != "ABCD-EFGH" || dc.VerificationURI != "https://v.test" || dc.Interval != 2*time.Second || dc.ExpiresIn != 30*time.Minute {
				t.Fatalf("device code %+v", dc)
			}
			var slept []time.Duration
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			tok, err := PollDeviceToken(context.Background(), s.Client(), DevicePoll{
				Request:  Request{URL: s.URL + "/token", Params: url.Values{"grant_type": {DeviceGrantType}, "device_code": {dc.DeviceCode.Reveal()}}},
				Interval: dc.Interval,
				Deadline: clock.Add(dc.ExpiresIn),
				Now:      func() time.Time { return clock },
				Sleep: func(_ context.Context, d time.Duration) error {
					slept = append(slept, d)
					clock = clock.Add(d)
					return nil
				},
			})
			if diff := cmp.Diff(c.wantSleep, slept); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if c.wantErr != nil {
				if err == nil || err.Error() != c.wantErr.Error() {
					t.Errorf("err = %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil || tok.AccessToken != records.Secret("tok") {
				t.Fatalf("token %v, %v", tok, err)
			}
			if polls[0].Get("device_code") != "dc" || polls[0].Get("grant_type") != DeviceGrantType {
				t.Errorf("poll form %v", polls[0])
			}
		})
	}
}

func TestDevicePollDeadlineAndContext(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"slow_down"}`)
	}))
	defer s.Close()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var slept []time.Duration
	_, err := PollDeviceToken(context.Background(), s.Client(), DevicePoll{
		Request:  Request{URL: s.URL},
		Interval: 50 * time.Second,
		Now:      func() time.Time { return clock },
		Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			clock = clock.Add(d)
			return nil
		},
	})
	if !errors.Is(err, ErrDeviceCodeExpired) {
		t.Fatalf("err = %v", err)
	}
	for _, d := range slept[1:] {
		if d > maxDeviceInterval {
			t.Fatalf("interval grew past the cap: %v", slept)
		}
	}
	if total := clock.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); total < DefaultDeviceLifetime || total > DefaultDeviceLifetime+maxDeviceInterval {
		t.Errorf("polled for %v", total)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PollDeviceToken(ctx, s.Client(), DevicePoll{Request: Request{URL: s.URL}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled poll: %v", err)
	}
}

func TestRequestDeviceCodeMalformed(t *testing.T) {
	for _, body := range []string{`{}`, `nope`, `{"device_code":"d","user_code":"u"}`} {
		ts := newTokenServer(t, 200, body)
		if _, err := RequestDeviceCode(context.Background(), ts.Client(), Request{URL: ts.URL}); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(payload)) + ".sig"
}

func TestDecodeJWTPayload(t *testing.T) {
	var c struct {
		Email string `json:"email"`
	}
	if err := DecodeJWTPayload(jwt(`{"email":"a@b.test"}`), &c); err != nil || c.Email != "a@b.test" {
		t.Fatalf("%v %+v", err, c)
	}
	padded := strings.Split(jwt(`{"email":"x"}`), ".")
	padded[1] = base64.URLEncoding.EncodeToString([]byte(`{"email":"x"}`))
	if err := DecodeJWTPayload(strings.Join(padded, "."), &c); err != nil || c.Email != "x" {
		t.Errorf("padded payload: %v", err)
	}
	secret := "eyJzZWNyZXQ"
	for _, bad := range []string{"", secret, secret + ".!!!.x", "a.b.c.d", jwt(`[1]`), jwt(`not json`), strings.Repeat("a", maxJWT+1)} {
		err := DecodeJWTPayload(bad, &c)
		if !errors.Is(err, ErrMalformedJWT) {
			t.Errorf("%.20q: %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}

func TestMetaValue(t *testing.T) {
	for in, want := range map[string]string{
		"me@example.com":         "me@example.com",
		"Société Générale":       "Société Générale",
		"a\nb":                   "",
		"\xff":                   "",
		strings.Repeat("a", 256): "",
		"":                       "",
	} {
		if got := MetaValue(in); got != want {
			t.Errorf("MetaValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenResponseExpiry(t *testing.T) {
	n := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := (&TokenResponse{}).expiry(n); !got.IsZero() {
		t.Errorf("no lifetime: %v", got)
	}
	if got := (&TokenResponse{ExpiresIn: time.Hour}).expiry(n); !got.Equal(n.Add(time.Hour)) {
		t.Errorf("an hour: %v", got)
	}
}

func TestResolveRefresh(t *testing.T) {
	rec := func(client, tokenURL, refresh string) *records.Record {
		return &records.Record{Kind: records.KindOAuth, OAuth: &records.OAuth{ClientID: client, TokenURL: tokenURL, Refresh: records.Secret(refresh)}}
	}
	cases := []struct {
		name      string
		rec       *records.Record
		want      [2]string // client id, token URL
		wantIs    error
		permanent bool
	}{
		{"record wins", rec("own", "https://own.test/token", "rt"), [2]string{"own", "https://own.test/token"}, nil, false},
		{"defaults fill in", rec("", "", "rt"), [2]string{"default-client", "https://default.test/token"}, nil, false},
		{"api key", &records.Record{Kind: records.KindAPI, API: &records.APIKey{Key: "k"}}, [2]string{}, adapters.ErrNotRefreshable, false},
		{"nil", nil, [2]string{}, adapters.ErrNotRefreshable, false},
		{"no refresh token", rec("own", "", ""), [2]string{}, ErrNoRefreshToken, true},
	}
	for _, c := range cases {
		clientID, tokenURL, err := ResolveRefresh("p", c.rec, "default-client", "https://default.test/token")
		if diff := cmp.Diff(c.want, [2]string{clientID, tokenURL}); diff != "" || !errors.Is(err, c.wantIs) {
			t.Errorf("%s: %v %s", c.name, err, diff)
		}
		var re *adapters.RefreshError
		if errors.As(err, &re) != c.permanent {
			t.Errorf("%s: RefreshError = %v", c.name, err)
		}
	}
	if _, _, err := ResolveRefresh("p", rec("", "", "rt"), "", ""); !errors.Is(err, ErrClientIDRequired) {
		t.Errorf("no client anywhere: %v", err)
	}
}

func TestDevicePollProviderRules(t *testing.T) {
	cases := []struct {
		name      string
		steps     []oauthtest.Reply
		slowDown  func(interval, asked time.Duration) time.Duration
		wantSleep []time.Duration
		wantAsked []time.Duration
	}{
		{"named interval reaches the rule", []oauthtest.Reply{
			{Status: 200, Body: `{"error":"slow_down","interval":12}`},
			{Status: 200, Body: `{"access_token":"tok"}`},
		}, func(d, asked time.Duration) time.Duration { return asked }, []time.Duration{2 * time.Second, 12 * time.Second}, []time.Duration{12 * time.Second}},
		{"429 without a code slows down", []oauthtest.Reply{
			{Status: 429, Body: `<html>too many</html>`},
			{Status: 429, Body: `{"error":"access_denied"}`},
			{Status: 400, Body: `{"error":"authorization_pending"}`},
			{Status: 200, Body: `{"access_token":"tok"}`},
		}, func(d, _ time.Duration) time.Duration { return d * 3 / 2 }, []time.Duration{2 * time.Second, 3 * time.Second, 4500 * time.Millisecond, 4500 * time.Millisecond}, []time.Duration{0, 0}},
		{"default rule ignores the named interval", []oauthtest.Reply{
			{Status: 400, Body: `{"error":"slow_down","interval":30}`},
			{Status: 200, Body: `{"access_token":"tok"}`},
		}, nil, []time.Duration{2 * time.Second, 7 * time.Second}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/token": c.steps})
			clock := adaptertest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			var asked []time.Duration
			p := DevicePoll{Request: Request{URL: s.URL + "/token"}, Interval: 2 * time.Second, Now: clock.Now, Sleep: clock.Sleep}
			if c.slowDown != nil {
				p.SlowDown = func(d, a time.Duration) time.Duration {
					asked = append(asked, a)
					return c.slowDown(d, a)
				}
			}
			tok, err := PollDeviceToken(context.Background(), s.Client(), p)
			if err != nil || tok.AccessToken != "tok" {
				t.Fatalf("PollDeviceToken = %v, %v", tok, err)
			}
			if diff := cmp.Diff(c.wantSleep, clock.Waits()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.wantAsked, asked); diff != "" {
				t.Errorf("asked intervals (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDevicePollEndings(t *testing.T) {
	cases := []struct {
		name      string
		reply     oauthtest.Reply
		wantIs    error
		wantToken *TokenError
		wantAs    any
	}{
		{"denied", oauthtest.Reply{Status: 403, Body: `{"error":"access_denied","error_description":"no"}`}, ErrAccessDenied, &TokenError{403, "access_denied", "no"}, new(*AuthorizationError)},
		{"expired", oauthtest.Reply{Status: 200, Body: `{"error":"expired_token"}`}, ErrDeviceCodeExpired, &TokenError{200, "expired_token", ""}, nil},
		{"refused", oauthtest.Reply{Status: 401, Body: `{"error":"invalid_client"}`}, nil, &TokenError{401, "invalid_client", ""}, nil},
		{"no token", oauthtest.Reply{Status: 200, Body: `{"token_type":"bearer"}`}, ErrMalformedResponse, nil, new(*malformedResponseError)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/token": {c.reply}})
			clock := adaptertest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			_, err := PollDeviceToken(context.Background(), s.Client(), DevicePoll{Request: Request{URL: s.URL + "/token"}, Now: clock.Now, Sleep: clock.Sleep})
			if c.wantIs != nil && !errors.Is(err, c.wantIs) {
				t.Errorf("err = %v, want %v", err, c.wantIs)
			}
			var te *TokenError
			if errors.As(err, &te) != (c.wantToken != nil) {
				t.Fatalf("err = %v: holds a *TokenError: %v, want %v", err, te != nil, c.wantToken != nil)
			}
			if diff := cmp.Diff(c.wantToken, te); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if c.wantAs != nil && !errors.As(err, c.wantAs) {
				t.Errorf("err = %v, want a %T", err, c.wantAs)
			}
		})
	}
	var me *malformedResponseError
	ts := newTokenServer(t, 200, `[]`)
	if _, err := postToken(context.Background(), ts.Client(), Request{URL: ts.URL}); !errors.As(err, &me) || me.Status != 200 {
		t.Errorf("malformed answer: %v", err)
	}
}

func TestAuthorizationErrorIsAccessDenied(t *testing.T) {
	if !errors.Is(&AuthorizationError{Code: "access_denied"}, ErrAccessDenied) {
		t.Error("access_denied is not ErrAccessDenied")
	}
	if errors.Is(&AuthorizationError{Code: "invalid_scope"}, ErrAccessDenied) {
		t.Error("invalid_scope is ErrAccessDenied")
	}
}

func TestAuthRequestURL(t *testing.T) {
	r := authRequest{
		Endpoint: "https://auth.example.test/authorize?tenant=t1",
		ClientID: "cid",
		Scope:    "a b",
		Extra:    url.Values{"code": {"true"}, "client_id": {"spoofed"}},
	}
	got, err := r.URL("http://localhost:1/cb", "st", PKCE{Verifier: "v", Challenge: "ch"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	want := url.Values{
		"tenant": {"t1"}, "code": {"true"}, "response_type": {"code"}, "client_id": {"cid"},
		"redirect_uri": {"http://localhost:1/cb"}, "scope": {"a b"}, "code_challenge": {"ch"},
		"code_challenge_method": {"S256"}, "state": {"st"},
	}
	if diff := cmp.Diff(want, u.Query()); diff != "" || u.Host != "auth.example.test" || u.Path != "/authorize" {
		t.Errorf("%s (-want +got):\n%s", got, diff)
	}
	if _, err := (authRequest{Endpoint: "://bad"}).URL("r", "s", PKCE{}); err == nil {
		t.Error("a bad endpoint gave a URL")
	}
}

func TestRefreshGrant(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := func() *records.Record {
		return &records.Record{Provider: "p", Kind: records.KindOAuth, OAuth: &records.OAuth{Access: "old", Refresh: secretRefresh, Scopes: []string{"s"}}}
	}
	ts := newTokenServer(t, 200, `{"access_token":"`+secretAccess+`","expires_in":60,"resource_url":"r.example"}`)
	g := RefreshGrant{Provider: "p", ClientID: "cid", TokenURL: ts.URL, JSON: true, Header: http.Header{"X-Flag": {"1"}}}
	in := rec()
	out, tok, err := g.Run(context.Background(), ts.Client(), in, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	want := &records.OAuth{Access: secretAccess, Refresh: secretRefresh, Expiry: now.Add(time.Minute), Scopes: []string{"s"}, ClientID: "cid"}
	if diff := cmp.Diff(want, out.OAuth); diff != "" {
		t.Errorf("refreshed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(rec(), in); diff != "" {
		t.Errorf("input modified:\n%s", diff)
	}
	if jsonString(tok.Extra["resource_url"]) != "r.example" || jsonString(tok.Extra["absent"]) != "" {
		t.Errorf("extra %v", tok.Extra)
	}
	if ts.json["grant_type"] != "refresh_token" || ts.json["client_id"] != "cid" || ts.got.Header.Get("X-Flag") != "1" {
		t.Errorf("request %v %v", ts.json, ts.got.Header)
	}

	ts = newTokenServer(t, 400, `{"error":"invalid_grant"}`)
	_, _, err = RefreshGrant{Provider: "p", ClientID: "cid", TokenURL: ts.URL}.Run(context.Background(), ts.Client(), rec(), time.Now)
	var re *adapters.RefreshError
	if !errors.As(err, &re) || !re.Permanent || re.Code != "invalid_grant" {
		t.Errorf("refused: %v", err)
	}
	if _, _, err := (RefreshGrant{Provider: "p"}).Run(context.Background(), nil, rec(), time.Now); !errors.Is(err, ErrClientIDRequired) {
		t.Errorf("no client: %v", err)
	}
}

func TestTokenResponseApply(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := &records.OAuth{Access: "a0", Refresh: "r0", Expiry: now, Scopes: []string{"x"}}
	(&TokenResponse{AccessToken: "a1"}).Apply(o, now)
	if diff := cmp.Diff(&records.OAuth{Access: "a1", Refresh: "r0", Scopes: []string{"x"}}, o); diff != "" {
		t.Errorf("bare answer (-want +got):\n%s", diff)
	}
	(&TokenResponse{AccessToken: "a2", RefreshToken: "r2", ExpiresIn: time.Hour, Scope: "y z"}).Apply(o, now)
	if diff := cmp.Diff(&records.OAuth{Access: "a2", Refresh: "r2", Expiry: now.Add(time.Hour), Scopes: []string{"y", "z"}}, o); diff != "" {
		t.Errorf("full answer (-want +got):\n%s", diff)
	}
}
