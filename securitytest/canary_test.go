//go:build unix

package securitytest

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/migrate"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// verbs are the fmt verbs and flags a careless log line might use.
var verbs = []string{"%v", "%+v", "%#v", "%s", "%+s", "%q", "%+q", "%#q", "%x", "% x", "%#x", "%X", "%d", "%c",
	"%U", "%t", "%o", "%b", "%e", "%g", "%50s", "%.5s", "%-8q", "%T"}

// printings returns v printed every way the standard library offers:
// every fmt verb, encoding/json, encoding/xml, text and html templates,
// log, and log/slog's text and JSON handlers.
func printings(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range verbs {
		out["fmt "+verb] = fmt.Sprintf(verb, v)
	}
	out["Sprint"] = fmt.Sprint(v)
	out["Sprintln"] = fmt.Sprintln(v, v)
	out["Errorf"] = fmt.Errorf("wrapped: %v: %w", v, errors.New("cause")).Error()
	if b, err := json.Marshal(v); err == nil {
		out["json"] = string(b)
	} else {
		out["json error"] = err.Error()
	}
	if b, err := json.MarshalIndent(v, "", " "); err == nil {
		out["json indent"] = string(b)
	}
	if b, err := xml.Marshal(v); err == nil {
		out["xml"] = string(b)
	} else {
		out["xml error"] = err.Error()
	}
	var tb bytes.Buffer
	if err := template.Must(template.New("").Parse("{{.}} {{printf \"%v %+v %s\" . . .}}")).Execute(&tb, v); err == nil {
		out["text/template"] = tb.String()
	}
	var hb bytes.Buffer
	if err := htmltemplate.Must(htmltemplate.New("").Parse("<p>{{.}}</p>")).Execute(&hb, v); err == nil {
		out["html/template"] = hb.String()
	}
	var lb bytes.Buffer
	log.New(&lb, "", 0).Printf("%v %+v", v, v)
	out["log"] = lb.String()
	var sb bytes.Buffer
	slog.New(slog.NewTextHandler(&sb, nil)).Info("m", "v", v, slog.Any("any", v), slog.Group("g", "v", v))
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("m", "v", v, slog.Any("any", v), slog.Group("g", "v", v))
	out["slog"] = sb.String()
	return out
}

// Records and every struct that holds a credential print without it,
// whatever the verb or encoder.
func TestCanaryFormatting(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	recs := canaryRecords(f.c)
	p, err := pool.Open(ctx, f.v, pool.Key{Provider: "anthropic", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	lease, err := p.Acquire(ctx, pool.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	client, err := authvault.Open(ctx, "anthropic", authvault.WithVault(f.v))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	secret := records.Secret(f.c.APIKey)
	bearerAdapter, err := bearer.New("custom", bearer.WithTokenURL("https://auth.example.com/token"), bearer.WithClientSecret(records.Secret(f.c.Passphrase)))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := migrate.SourceByName(migrate.SourceOpenCode)
	found, problems := src.Parse("auth.json", []byte(fmt.Sprintf(
		`{"anthropic":{"type":"oauth","refresh":%q,"access":%q,"expires":4102444800000},"openai":{"type":"api","key":%q}}`,
		f.c.Refresh, f.c.Access, f.c.APIKey)))
	if len(problems) > 0 || len(found) != 2 {
		t.Fatalf("parsing opencode: %v", problems)
	}
	plan, err := migrate.NewPlan(ctx, f.v, found, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	values := []struct {
		name string
		v    any
	}{
		{"*records.Record", recs[0]},
		{"records.Record", *recs[0]},
		{"[]*records.Record", recs},
		{"*records.OAuth", recs[0].OAuth},
		{"records.OAuth", *recs[0].OAuth},
		{"records.APIKey", *recs[1].API},
		{"records.WellKnown", *recs[2].WellKnown},
		{"records.Secret", secret},
		{"map of secrets", map[string]records.Secret{"k": secret}},
		{"secret in an interface slice", []any{secret, recs[1]}},
		{"migrate.Found", found[0]},
		{"migrate.Plan", plan},
		{"migrate.LegacyInfo", migrate.LegacyInfo{Access: records.Secret(f.c.Access), Refresh: records.Secret(f.c.Refresh),
			Key: secret, OldRefresh: records.Secret(f.c.Refresh)}},
		{"*pool.Lease", lease},
		{"*pool.Pool", p},
		{"*transport.Transport", client.Transport},
		{"*authvault.Client", client},
		{"*bearer.Adapter", bearerAdapter},
		{"*vault.Vault", f.v},
		{"*envelope.Keys", mustKeys(t, f)},
	}
	for _, tc := range values {
		t.Run(tc.name, func(t *testing.T) {
			for how, s := range printings(tc.v) {
				if leaks := f.c.leaks(s); len(leaks) > 0 {
					t.Errorf("%s leaks the %s:\n%s", how, strings.Join(leaks, ", "), clip(s))
				}
			}
		})
	}
	t.Run("encoding/gob", func(t *testing.T) {
		var g bytes.Buffer
		err := gob.NewEncoder(&g).Encode(recs)
		if leaks := f.c.leaks(g.String()); len(leaks) > 0 {
			t.Fatalf("encoding/gob leaks the %s", strings.Join(leaks, ", "))
		}
		if !errors.Is(err, records.ErrGobSecret) {
			t.Fatalf("gob of records: %v, want records.ErrGobSecret", err)
		}
	})
}

func mustKeys(t *testing.T, f *fixture) *envelope.Keys {
	t.Helper()
	h, _ := readHeader(t, f.dir)
	k, err := envelope.DeriveKeys(f.dataKey(t), h.VaultID)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A panic carrying a record, recovered or not, prints no secret.
func TestCanaryPanics(t *testing.T) {
	c := newCanaries(t)
	recs := canaryRecords(c)
	recovered := func(fn func()) (r any) {
		defer func() { r = recover() }()
		fn()
		return nil
	}
	bad := false
	for name, fn := range map[string]func(){
		"panic(fmt.Sprint(rec))":  func() { panic(fmt.Sprint(recs[0])) },
		"panic(rec)":              func() { panic(recs[0]) },
		"panic(*rec)":             func() { panic(*recs[0]) },
		"panic(secret)":           func() { panic(recs[0].OAuth.Refresh) },
		"panic(error)":            func() { panic(fmt.Errorf("bad record %+v", recs)) },
		"panic(fmt.Sprintf(%#v))": func() { panic(fmt.Sprintf("%#v", recs[2])) },
	} {
		r := recovered(fn)
		c.check(t, "recovered "+name, fmt.Sprintf("%v | %+v | %#v", r, r, r))
		bad = bad || len(c.leaks(fmt.Sprintf("%s", r))) > 0
	}
	// Not recovered: the Go runtime prints the value on standard error.
	vals := strings.Join([]string{c.Access, c.Refresh, c.IDToken, c.APIKey, c.WellKnown}, ",")
	for _, mode := range []string{"record", "record value", "secret", "sprint", "error", "oauth"} {
		code, stdout, stderr := runHelperProc(t, helper(t, "panic", envArg+"="+mode, envURL+"="+vals))
		if code != 2 || !strings.Contains(stderr, "panic: ") {
			t.Fatalf("%s: exit %d, want a panic:\n%s", mode, code, stderr)
		}
		c.check(t, "unrecovered panic("+mode+") stdout", stdout)
		c.check(t, "unrecovered panic("+mode+") stderr", stderr)
	}
	if bad {
		t.Fatal("a recovered record printed with the s verb leaks a secret")
	}
}

// refreshCase is an adapter whose refresh is pointed at a test server.
type refreshCase struct {
	name    string
	adapter func(t *testing.T, srv string) adapters.Adapter
	record  func(c *canaries, srv string) *records.Record
}

func oauthRecord(provider string, c *canaries, srv string) *records.Record {
	return &records.Record{Provider: provider, Namespace: "default", Label: "alice@example.com", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: records.Secret(c.Access), Refresh: records.Secret(c.Refresh), IDToken: records.Secret(c.IDToken),
			Expiry: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), ClientID: "client-1", TokenURL: srv + "/token"},
		Meta: map[string]string{"client_secret": "public-installed-app-secret"}}
}

var refreshCases = []refreshCase{
	{"anthropic", func(*testing.T, string) adapters.Adapter { return anthropic.New() },
		func(c *canaries, srv string) *records.Record { return oauthRecord("anthropic", c, srv) }},
	{"openai", func(*testing.T, string) adapters.Adapter { return openai.New() },
		func(c *canaries, srv string) *records.Record { return oauthRecord("openai", c, srv) }},
	{"google", func(*testing.T, string) adapters.Adapter { return google.New() },
		func(c *canaries, srv string) *records.Record { return oauthRecord("google", c, srv) }},
	{"qwen", func(*testing.T, string) adapters.Adapter { return qwen.New() },
		func(c *canaries, srv string) *records.Record { return oauthRecord("qwen", c, srv) }},
	{"bearer", func(t *testing.T, srv string) adapters.Adapter {
		a, err := bearer.New("custom", bearer.WithClientSecret("cnry-client-secret-0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}, func(c *canaries, srv string) *records.Record { return oauthRecord("custom", c, srv) }},
	{"copilot", func(t *testing.T, srv string) adapters.Adapter {
		return copilot.New(copilot.WithEndpoints("github.com", copilot.Endpoints{
			DeviceCodeURL: srv + "/device", AccessTokenURL: srv + "/access", CopilotTokenURL: srv + "/token"}))
	}, func(c *canaries, srv string) *records.Record {
		r := oauthRecord("copilot", c, srv)
		r.OAuth.TokenURL = ""
		return r
	}},
}

// echo is everything a request carried that a hostile server could echo:
// its body, its credentials, the refresh token on its own.
type echo struct {
	body, auth, token string
}

func readEcho(r *http.Request) echo {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	e := echo{body: string(b), auth: r.Header.Get("Authorization")}
	var js map[string]string
	if json.Unmarshal(b, &js) == nil {
		e.token = js["refresh_token"]
	} else if form, err := url.ParseQuery(string(b)); err == nil && form.Get("refresh_token") != "" {
		e.token = form.Get("refresh_token")
	}
	if e.token == "" {
		_, e.token, _ = strings.Cut(e.auth, " ")
	}
	return e
}

func (e echo) all() string { return e.token + " | " + e.body + " | " + e.auth }

// hostileTokenAnswers are token endpoint answers that echo the request.
var hostileTokenAnswers = []struct {
	name string
	fn   func(w http.ResponseWriter, e echo)
}{
	{"description", func(w http.ResponseWriter, e echo) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, "refresh token "+e.all()+" is invalid")
	}},
	{"message", func(w http.ResponseWriter, e echo) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"code":"invalid_grant","message":%q}}`, e.all())
	}},
	{"long description", func(w http.ResponseWriter, e echo) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, strings.Repeat("x", 180)+e.token)
	}},
	{"plain text", func(w http.ResponseWriter, e echo) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(400)
		io.WriteString(w, e.all())
	}},
	{"html 500", func(w http.ResponseWriter, e echo) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(500)
		io.WriteString(w, "<html><body>upstream said: "+e.all()+"</body></html>")
	}},
	{"malformed 200", func(w http.ResponseWriter, e echo) {
		fmt.Fprintf(w, `{"access_token":12345,"echo":%q}`, e.all())
	}},
	{"unusable 200", func(w http.ResponseWriter, e echo) {
		fmt.Fprintf(w, `{"token":%q,"refresh_token":%q,"expires_at":"never"}`, e.token, e.token)
	}},
	{"header", func(w http.ResponseWriter, e echo) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+e.token+`"`)
		w.Header().Set("X-Echo", e.all())
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"invalid_grant"}`)
	}},
	{"error code", func(w http.ResponseWriter, e echo) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":%q}`, e.token)
	}},
	{"nested error code", func(w http.ResponseWriter, e echo) {
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"code":%q,"type":%q,"message":"bad"},"code":%q}`, e.token, e.token, e.token)
	}},
	{"error code in a 200", func(w http.ResponseWriter, e echo) {
		fmt.Fprintf(w, `{"error":%q,"access_token":"x"}`, e.token)
	}},
	{"notification id", func(w http.ResponseWriter, e echo) {
		w.WriteHeader(403)
		fmt.Fprintf(w, `{"message":"Resource not accessible","error_details":{"notification_id":%q}}`, e.token)
	}},
}

// A token endpoint that answers with errors echoing the refresh token (or
// the whole request) back cannot make a refresh error carry it.
func TestCanaryRefreshFailures(t *testing.T) {
	for _, rc := range refreshCases {
		for _, ans := range hostileTokenAnswers {
			t.Run(rc.name+"/"+ans.name, func(t *testing.T) {
				c := newCanaries(t)
				c.add("client secret", "cnry-client-secret-0123456789abcdef")
				hits := 0
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hits++
					w.Header().Set("Content-Type", "application/json")
					ans.fn(w, readEcho(r))
				}))
				defer srv.Close()
				a := rc.adapter(t, srv.URL)
				ctx := deadline(t, 30*time.Second)
				got, err := a.Refresh(ctx, srv.Client(), rc.record(c, srv.URL))
				if hits == 0 {
					t.Fatalf("the refresh never reached the token endpoint: %v", err)
				}
				if err == nil {
					// Some answers are usable for some adapters: then the
					// result is the record, not an error.
					if got == nil {
						t.Fatal("nil record and nil error")
					}
					return
				}
				checkRefreshError(t, c, err)
			})
		}
	}
}

// checkRefreshError checks an adapter's refresh error, with the known
// issue of a provider-chosen error code told apart from anything else.
func checkRefreshError(t *testing.T, c *canaries, err error) {
	t.Helper()
	var re *adapters.RefreshError
	if errors.As(err, &re) && len(c.leaks(re.Code)) > 0 {
		rest := *re
		rest.Code = ""
		c.check(t, "refresh error without its code", fmt.Sprintf("%v | %+v", &rest, &rest))
		t.Errorf("the token endpoint's echo of a credential reached RefreshError.Code: %q", re.Code)
	}
	c.check(t, "refresh error", fmt.Sprintf("%v | %+v | %#v", err, err, err))
}

// hostileAPIAnswers are API answers that echo the request's credentials.
var hostileAPIAnswers = []struct {
	name  string
	known bool // the known issue: the echo lands in the outcome's reason
	fn    func(w http.ResponseWriter, r *http.Request)
}{
	{"message", false, func(w http.ResponseWriter, r *http.Request) {
		cred := credentials(r)
		w.WriteHeader(429)
		fmt.Fprintf(w, `{"type":"error","error":{"type":"rate_limit_error","code":"rate_limit_exceeded","message":%q,"status":"RESOURCE_EXHAUSTED"}}`, "Authorization: "+cred)
	}},
	{"headers", false, func(w http.ResponseWriter, r *http.Request) {
		cred := credentials(r)
		w.Header().Set("Retry-After", cred)
		w.Header().Set("X-Ratelimit-Reset-Requests", cred)
		w.Header().Set("Anthropic-Ratelimit-Unified-Reset", cred)
		w.Header().Set("X-Echo", cred)
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"code":"rate_limit_exceeded"}}`)
	}},
	{"401 message", false, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"authentication_error"}}`, "bad key "+credentials(r))
	}},
	{"restricted client", true, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		fmt.Fprintf(w, `{"type":"error","error":{"type":"permission_error","message":"This credential is only authorized for use with %s and cannot be used"}}`, bareToken(r))
	}},
	{"error type and code", true, func(w http.ResponseWriter, r *http.Request) {
		tok := bareToken(r)
		w.WriteHeader(429)
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"code":%q,"message":"x"},"code":%q}`, tok, tok, tok)
	}},
	{"google reason", true, func(w http.ResponseWriter, r *http.Request) {
		tok := bareToken(r)
		w.WriteHeader(429)
		fmt.Fprintf(w, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"x","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":%q}]}}`, tok)
	}},
	{"window name", true, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Anthropic-Ratelimit-Unified-"+bareToken(r)+"-Status", "rejected")
		w.WriteHeader(429)
		io.WriteString(w, `{}`)
	}},
}

// credentials returns every credential header of r.
func credentials(r *http.Request) string {
	return r.Header.Get("Authorization") + " " + r.Header.Get("X-Api-Key") + " " + r.Header.Get("X-Goog-Api-Key")
}

// bareToken returns the credential of r without its scheme.
func bareToken(r *http.Request) string {
	for _, h := range []string{"X-Api-Key", "X-Goog-Api-Key"} {
		if v := r.Header.Get(h); v != "" {
			return v
		}
	}
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return tok
}

// A provider whose error answers echo the request's credentials cannot
// get them into an outcome: the reasons adapters take from a response are
// what the transport logs and the pool keeps.
func TestCanaryProviderEcho(t *testing.T) {
	for _, prov := range adapters.Providers() {
		a, _ := adapters.Lookup(prov)
		for _, ans := range hostileAPIAnswers {
			t.Run(prov+"/"+ans.name, func(t *testing.T) {
				c := newCanaries(t)
				rec := apiRecord(prov, c)
				if prov == "copilot" {
					rec = oauthRecord(prov, c, "")
					rec.Meta = nil
				}
				req := httptest.NewRequest(http.MethodPost, "https://api.example.com/v1/messages", strings.NewReader(`{}`))
				if err := a.Authorize(req, rec); err != nil {
					t.Fatal(err)
				}
				w := httptest.NewRecorder()
				ans.fn(w, req)
				resp := w.Result()
				resp.Request = req // as net/http's client sets it
				now := time.Now()
				out := a.Classify(resp, now)
				body, _ := io.ReadAll(resp.Body)
				if !bytes.Equal(body, w.Body.Bytes()) {
					t.Error("Classify did not leave the body whole for the caller")
				}
				s := fmt.Sprintf("%v | %+v", out, out)
				if l := c.leaks(s); len(l) > 0 {
					t.Errorf("outcome leaks the %s: %s", strings.Join(l, ", "), s)
				}
			})
		}
	}
}

func apiRecord(provider string, c *canaries) *records.Record {
	return &records.Record{Provider: provider, Namespace: "default", Label: "bob@example.com", Kind: records.KindAPI,
		API: &records.APIKey{Key: records.Secret(c.APIKey)}}
}

// A full transport cycle (an attempt, a 429 and its cooldown, a rotation,
// a refresh, a 401, a refresh the token endpoint refuses while echoing the
// refresh token, an API key answered with a 429 that echoes it, and
// exhaustion) logged by SlogObserver at debug level, in a separate
// process: no secret reaches its log lines, standard output or standard
// error, including the tokens issued during the cycle.
func TestCanaryTransportCycle(t *testing.T) {
	c := newCanaries(t)
	ac2, rf2 := "cnry-ac2-"+randHex(12), "cnry-rf2-"+randHex(12)
	acN, rfN := "cnry-acn-"+randHex(12), "cnry-rfn-"+randHex(12)
	c.add("second access token", ac2)
	c.add("second refresh token", rf2)
	c.add("issued access token", acN)
	c.add("issued refresh token", rfN)
	served := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			e := readEcho(r)
			switch e.token {
			case rf2:
				fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"expires_in":3600}`, acN, rfN)
			default:
				w.WriteHeader(400)
				fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`, "refresh token "+e.all()+" was already used")
			}
			return
		}
		cred := credentials(r)
		served[bareToken(r)]++
		switch bareToken(r) {
		case c.Access:
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
			fmt.Fprintf(w, `{"type":"error","error":{"type":"rate_limit_error","message":%q}}`, "slow down, "+cred)
		case acN:
			if served[acN] == 1 {
				io.WriteString(w, `{"id":"msg_1"}`)
				return
			}
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"type":"error","error":{"type":"authentication_error","message":%q}}`, "token expired: "+cred)
		case c.APIKey:
			w.WriteHeader(429)
			fmt.Fprintf(w, `{"type":"error","error":{"type":"rate_limit_error","message":%q}}`, "key "+cred+" is over its limit")
		default:
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"type":"error","error":{"type":"authentication_error","message":%q}}`, "unknown "+cred)
		}
	}))
	defer srv.Close()
	dir, v := newBareVault(t, c)
	ctx := context.Background()
	for _, r := range []*records.Record{
		{Provider: "anthropic", Namespace: "default", Label: "a1", Kind: records.KindOAuth, OAuth: &records.OAuth{
			Access: records.Secret(c.Access), Refresh: records.Secret(c.Refresh), IDToken: records.Secret(c.IDToken),
			Expiry: time.Now().Add(24 * time.Hour), ClientID: "client-1", TokenURL: srv.URL + "/token"}},
		{Provider: "anthropic", Namespace: "default", Label: "a2", Kind: records.KindOAuth, OAuth: &records.OAuth{
			Access: records.Secret(ac2), Refresh: records.Secret(rf2),
			Expiry: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), ClientID: "client-1", TokenURL: srv.URL + "/token"}},
		{Provider: "anthropic", Namespace: "default", Label: "a3", Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(c.APIKey)}},
	} {
		if _, err := v.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	v.Close()
	code, stdout, stderr := runHelperProc(t, helper(t, "cycle", envDir+"="+dir, envURL+"="+srv.URL, "AUTHVAULT_KEY="+c.Identity))
	if code != 0 {
		t.Fatalf("cycle exited %d:\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"request 1: HTTP 200", "request 2: HTTP 429", "request 3: HTTP 429",
		"authvault attempt", "authvault cooldown", "authvault rotate", "authvault refresh", "authvault disabled", "authvault exhausted",
		"adopted=false", "invalid_grant", "level=DEBUG", `"level":"WARN"`} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("the cycle did not produce %q:\n%s\n%s", want, stdout, stderr)
		}
	}
	c.check(t, "stdout", stdout)
	c.check(t, "stderr", stderr)

	// The vault's event log recorded the cycle, and no credential.
	ids, err := keysource.ParseIdentities([]byte(c.Identity))
	if err != nil {
		t.Fatal(err)
	}
	v, err = vault.Open(ctx, dir, ids)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	events, err := eventlog.NewFollower(v).Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	logged, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind":"cooldown"`, `"kind":"rotate"`, `"kind":"refresh"`, `"kind":"refresh-failed"`,
		`"reason":"invalid_grant"`, `"kind":"out-of-service"`, `"kind":"exhausted"`} {
		if !strings.Contains(string(logged), want) {
			t.Errorf("the event log has no %s:\n%s", want, logged)
		}
	}
	c.check(t, "event log", string(logged))
}

// Importers report problems in files full of credentials without quoting
// any of them.
func TestCanaryMigrateErrors(t *testing.T) {
	c := newCanaries(t)
	tok, ref, key := c.Access, c.Refresh, c.APIKey
	docs := map[string]string{
		"syntax error after a token":       `{"anthropic":{"type":"oauth","access":"` + tok + `","refresh":"` + ref + `" "expires":1}}`,
		"syntax error inside a token":      `{"anthropic":{"type":"oauth","access":"` + tok + "\x01" + `"}}`,
		"truncated in a token":             `{"openai":{"type":"api","key":"` + key,
		"token where a number goes":        `{"anthropic":{"type":"oauth","access":"` + tok + `","refresh":"` + ref + `","expires":"` + key + `"}}`,
		"number where a token goes":        `{"anthropic":{"type":"oauth","access":1234,"refresh":"` + ref + `","expires":1}}`,
		"token as a type":                  `{"openai":{"type":"` + key + `","key":"` + key + `"}}`,
		"duplicate key":                    `{"openai":{"type":"api","key":"` + key + `","key":"` + tok + `"}}`,
		"control character in a token":     `{"openai":{"type":"api","key":"` + key + `\u0007"}}`,
		"invalid UTF-8 next to a token":    `{"openai":{"type":"api","key":"` + key + "\xff" + `"}}`,
		"trailing data":                    `{"openai":{"type":"api","key":"` + key + `"}} "` + tok + `"`,
		"Claude Code wrong types":          `{"claudeAiOauth":{"accessToken":"` + tok + `","refreshToken":["` + ref + `"],"expiresAt":"` + key + `"}}`,
		"Codex id token not a JWT":         `{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":"` + tok + `","access_token":"` + tok + `","refresh_token":"` + ref + `","account_id":7}}`,
		"Codex api key with bad chars":     `{"OPENAI_API_KEY":"` + key + ` ` + tok + `","tokens":null}`,
		"Gemini expiry wrong":              `{"access_token":"` + tok + `","refresh_token":"` + ref + `","expiry_date":"` + key + `","id_token":"` + c.IDToken + `"}`,
		"Copilot bad token":                `{"github.com:Iv1.x":{"oauth_token":"` + ref + "\u2028" + tok + `"}}`,
		"well-known entry with a bad type": `{"https://auth.example.com":{"type":"wellknown","key":"` + key + `","token":12}}`,
	}
	for name, doc := range docs {
		for _, src := range migrate.Sources() {
			_, problems := src.Parse("/home/u/creds.json", []byte(doc))
			for _, p := range problems {
				c.check(t, src.Name+" "+name+" problem", fmt.Sprintf("%v | %+v | %#v", p, p, p.Err))
			}
		}
	}
}
