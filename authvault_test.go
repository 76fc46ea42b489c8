package authvault

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

func TestDefaultDir(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AUTHVAULT_DIR": "/srv/v"}, "/srv/v"},
		{map[string]string{"XDG_DATA_HOME": "/x/data"}, "/x/data/authvault"},
		{map[string]string{"XDG_DATA_HOME": "relative"}, "/home/u/.local/share/authvault"},
		{map[string]string{}, "/home/u/.local/share/authvault"},
	}
	for _, tc := range tests {
		got, err := defaultDir(env(tc.env), home)
		if err != nil || filepath.ToSlash(got) != tc.want {
			t.Errorf("%v: got %q %v, want %q", tc.env, got, err, tc.want)
		}
	}
}

// newVault makes a vault with two API-key accounts for provider "acme" and
// returns its dir and identity string.
func newVault(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	id, _ := age.GenerateHybridIdentity()
	dir := filepath.Join(t.TempDir(), "vault")
	v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, l := range []string{"one", "two"} {
		if _, err := v.Put(ctx, &records.Record{Provider: "acme", Namespace: "default", Label: l,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret("key-" + l)}}); err != nil {
			t.Fatal(err)
		}
	}
	return dir, id.String()
}

func TestOpenRotatesEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir, key := newVault(t)
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		seen = append(seen, auth)
		if auth == "Bearer key-one" {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	a, err := bearer.New("acme")
	if err != nil {
		t.Fatal(err)
	}
	// The default chain finds the key in the environment.
	t.Setenv(keysource.EnvKey, key)
	c, err := Open(ctx, "acme", WithDir(dir), WithAdapter(a), WithOrigins(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.HTTP.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" || strings.Join(seen, ",") != "Bearer key-one,Bearer key-two" {
		t.Fatalf("got %q after %v", b, seen)
	}
	// The rotation is in the vault's event log once the client is closed.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	v, err := OpenVault(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	events, err := eventlog.NewFollower(v).Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, string(e.Kind)+": "+e.Summary())
	}
	want := []string{"cooldown: one cooling 30s (429 rate_limited)", "rotate: one → two (429 rate_limited)"}
	if !slices.Equal(got, want) {
		t.Fatalf("event log %q, want %q", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	// An unknown provider whose accounts name no base URL: a typo, refused
	// with the list of known providers.
	dir0, key0 := newVault(t)
	// The default chain finds the key in the environment.
	t.Setenv(keysource.EnvKey, key0)
	if _, err := Open(ctx, "acme", WithDir(dir0)); err == nil || !strings.Contains(err.Error(), `unknown provider "acme"`) ||
		!strings.Contains(err.Error(), "anthropic, copilot, cursor, google, openai, qwen") {
		t.Errorf("unknown provider: %v", err)
	}
	// With a base URL it is a custom provider.
	c, err := Open(ctx, "acme", WithDir(dir0), WithBaseURL("https://api.acme.example/v1"))
	if err != nil {
		t.Fatalf("custom provider with WithBaseURL: %v", err)
	}
	c.Close()
	a, _ := bearer.New("acme")
	if _, err := Open(ctx, "acme", WithAdapter(a), WithDir(filepath.Join(t.TempDir(), "none"))); !errors.Is(err, vault.ErrNoVault) || !strings.Contains(err.Error(), "vaultkey init") {
		t.Errorf("no vault: %v", err)
	}
	dir, _ := newVault(t)
	empty := &keysource.Chain{Sources: []keysource.Source{&keysource.Env{Getenv: func(string) string { return "" }}}}
	if _, err := OpenVault(ctx, dir, empty); err == nil || !strings.Contains(err.Error(), "AUTHVAULT_KEY") {
		t.Errorf("no key: %v", err)
	}
}

// A custom provider's OAuth account carries its base URL, token URL,
// client id and client secret: a process refreshes and uses it with no
// code of its own.
func TestCustomOAuthAccountNeedsNoCode(t *testing.T) {
	ctx := context.Background()
	var tokenAuth, apiAuth []string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		r.ParseForm()
		tokenAuth = append(tokenAuth, user+":"+pass+" "+r.Form.Get("refresh_token"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"fresh-access","refresh_token":"rotated","expires_in":3600,"token_type":"Bearer"}`)
	}))
	defer tokens.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiAuth = append(apiAuth, r.URL.Path+" "+r.Header.Get("Authorization"))
		io.WriteString(w, "ok")
	}))
	defer api.Close()
	id, _ := age.GenerateX25519Identity()
	dir := filepath.Join(t.TempDir(), "vault")
	v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Put(ctx, &records.Record{Provider: "corpai", Namespace: "default", Label: "me", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: "stale", Refresh: "refresh-1", Expiry: time.Now().Add(-time.Minute),
			ClientID: "corp-client", ClientSecret: "corp-secret", TokenURL: tokens.URL + "/token"},
		Meta: map[string]string{"base_url": api.URL + "/v1"}})
	v.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The default chain finds the key in the environment.
	t.Setenv(keysource.EnvKey, id.String())
	c, err := Open(ctx, "corpai", WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.HTTP.Get(api.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Join(tokenAuth, ",") != "corp-client:corp-secret refresh-1" ||
		strings.Join(apiAuth, ",") != "/v1/models Bearer fresh-access" {
		t.Fatalf("status %d, token endpoint saw %v, API saw %v", resp.StatusCode, tokenAuth, apiAuth)
	}
}

// The root package links no store driver: a program opts into Redis by
// importing vault/redisstore, so one that only calls HTTPClient carries
// no Redis client.
func TestLinksNoStoreDriver(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/authvault/authvault").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %v", deps)
	}
	for _, p := range deps {
		if strings.Contains(p, "go-redis") || strings.HasSuffix(p, "/vault/redisstore") {
			t.Errorf("the root package depends on %s", p)
		}
	}
}

// A URL whose store package the program does not import is refused
// before anything is opened, and the error says what to import; the URL
// itself, which may hold a password, is not repeated.
func TestOpenVaultUnregisteredScheme(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		url  string
		want string
	}{
		{"redis://:pw-not-shown@127.0.0.1:1/0", `import _ "github.com/authvault/authvault/vault/redisstore"`},
		{"rediss://:pw-not-shown@127.0.0.1:1/0", `import _ "github.com/authvault/authvault/vault/redisstore"`},
		{"postgres://u:pw-not-shown@db/authvault", "import the package of that store"},
	}
	for _, tt := range tests {
		_, err := OpenVault(ctx, tt.url, nil)
		if !errors.Is(err, vault.ErrUnknownScheme) {
			t.Fatalf("OpenVault(%s): %v, want ErrUnknownScheme", tt.url, err)
		}
		if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "pw-not-shown") {
			t.Errorf("OpenVault(%s): %v, want a message with %q and no password", tt.url, err, tt.want)
		}
		if _, err := Open(ctx, "anthropic", WithDir(tt.url)); !errors.Is(err, vault.ErrUnknownScheme) {
			t.Errorf("Open(WithDir(%s)): %v, want ErrUnknownScheme", tt.url, err)
		}
	}
}
