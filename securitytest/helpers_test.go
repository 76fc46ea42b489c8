//go:build unix

package securitytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// Environment variables that turn the test binary into a helper process
// (see helper_test.go) and carry its arguments.
const (
	envRole = "AUTHVAULT_SECURITYTEST_ROLE"
	envDir  = "AUTHVAULT_SECURITYTEST_DIR"
	envURL  = "AUTHVAULT_SECURITYTEST_URL"
	envArg  = "AUTHVAULT_SECURITYTEST_ARG"
)

// TestMain makes every test hermetic (its own HOME and XDG directories, no
// authvault variables from the caller's environment, no session bus), and
// runs the helper processes that tests start by re-executing the binary.
func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		os.Exit(runHelper(role))
	}
	origEnv = os.Environ()
	home, err := os.MkdirTemp("", "securitytest-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, k := range []string{"AUTHVAULT_KEY", "AUTHVAULT_KEY_FILE", "AUTHVAULT_KEY_CMD",
		"AUTHVAULT_PASSPHRASE", "AUTHVAULT_DIR", "AUTHVAULT_KEYRING_SERVICE", "OPENCODE_AUTH_CONTENT",
		"CODEX_HOME", "CLAUDE_CONFIG_DIR", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
		os.Unsetenv(k)
	}
	os.Setenv("HOME", home)
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	os.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
	os.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// origEnv is the environment the tests were started with, for the go
// command (its caches live under the real home directory).
var origEnv []string

// canaries are unique strings put in every secret field. No error, log
// line or captured output may contain any of them, or a long piece of one.
type canaries struct {
	Access, Refresh, IDToken, APIKey, WellKnown, Passphrase string
	// Identity is the vault key (AGE-SECRET-KEY-PQ-1…); identity is it parsed.
	Identity string
	identity age.Identity
	// Recipient is the vault key's public key: not a secret.
	Recipient string

	mu      sync.Mutex
	needles map[string][]string // secret name -> strings that betray it
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// newCanaries makes a fresh set. Tokens look like real ones (short
// identifiers of [A-Za-z0-9_.-]), so that a filter which lets "codes"
// through would let them through too.
func newCanaries(t testing.TB) *canaries {
	t.Helper()
	id, enc, rcpt, err := keysource.GenerateIdentity(keysource.PostQuantum)
	if err != nil {
		t.Fatal(err)
	}
	c := &canaries{
		Access:     "cnry-acc-" + randHex(12),
		Refresh:    "cnry-ref-" + randHex(12),
		APIKey:     "cnry-key-" + randHex(12),
		WellKnown:  "cnry-wkt-" + randHex(12),
		Passphrase: "cnry-pass-" + randHex(12),
		Identity:   enc,
		identity:   id,
		Recipient:  rcpt,
		needles:    map[string][]string{},
	}
	// The id token is a JWT (its claims are read by adapters); its
	// signature part carries the canary.
	idSig := "cnry-idt-" + randHex(12)
	claims := base64.RawURLEncoding.EncodeToString([]byte(`{"email":"alice@example.com","exp":4102444800,"https://api.openai.com/auth":{"chatgpt_account_id":"acct-1"}}`))
	c.IDToken = "eyJhbGciOiJub25lIn0." + claims + "." + idSig
	for name, v := range map[string]string{"access token": c.Access, "refresh token": c.Refresh,
		"API key": c.APIKey, "well-known token": c.WellKnown, "passphrase": c.Passphrase} {
		c.add(name, v)
	}
	c.add("id token", idSig)
	// The API key as HTTP basic authentication carries it (Cursor).
	c.add("API key (basic auth)", base64.StdEncoding.EncodeToString([]byte(c.APIKey+":")))
	// The identity's data part; bech32 may be written in either case.
	c.add("age identity", strings.TrimPrefix(enc, "AGE-SECRET-KEY-PQ-1"))
	return c
}

// add registers another secret: a token issued during a test, the data
// key. The needles are the whole value and every 16-byte window at 8-byte
// steps, so a truncated echo is caught too.
func (c *canaries) add(name, v string, extra ...string) {
	lv := strings.ToLower(v)
	ns := []string{lv}
	if len(lv) > 24 {
		for i := 0; i+16 <= len(lv); i += 8 {
			ns = append(ns, lv[i:i+16])
		}
		ns = append(ns, lv[len(lv)-16:])
	}
	for _, e := range extra {
		ns = append(ns, strings.ToLower(e))
	}
	c.mu.Lock()
	c.needles[name] = append(c.needles[name], ns...)
	c.mu.Unlock()
}

// addKey registers a binary key (the vault's data key) in every form a
// careless program might print it.
func (c *canaries) addKey(name string, k []byte) {
	c.add(name+" (hex)", hex.EncodeToString(k))
	c.add(name+" (base64)", base64.StdEncoding.EncodeToString(k))
	c.add(name+" (base64url)", base64.RawURLEncoding.EncodeToString(k))
	c.add(name+" (%v)", strings.Trim(fmt.Sprint(k), "[]"))
}

// leaks returns the names of the secrets text betrays.
func (c *canaries) leaks(text string) []string {
	lt := strings.ToLower(text)
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for name, ns := range c.needles {
		for _, n := range ns {
			if strings.Contains(lt, n) {
				out = append(out, name)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// check fails t if text betrays a secret. where says what text is.
func (c *canaries) check(t testing.TB, where, text string) {
	t.Helper()
	if l := c.leaks(text); len(l) > 0 {
		t.Errorf("%s leaks the %s:\n%s", where, strings.Join(l, ", "), clip(text))
	}
}

// checkErr is check for an error's message (nil passes).
func (c *canaries) checkErr(t testing.TB, where string, err error) {
	t.Helper()
	if err != nil {
		c.check(t, where+" error", err.Error())
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// The canary accounts every fixture vault holds.
var (
	idOAuth = records.ID{Provider: "anthropic", Namespace: records.DefaultNamespace, Label: "alice@example.com"}
	idAPI   = records.ID{Provider: "openai", Namespace: records.DefaultNamespace, Label: "bob@example.com"}
	idWK    = records.ID{Provider: "wellknown-test", Namespace: "work", Label: "carol@example.com"}
)

// canaryRecords returns one record of each kind, every secret a canary.
func canaryRecords(c *canaries) []*records.Record {
	return []*records.Record{
		{Provider: idOAuth.Provider, Namespace: idOAuth.Namespace, Label: idOAuth.Label, Kind: records.KindOAuth,
			OAuth: &records.OAuth{Access: records.Secret(c.Access), Refresh: records.Secret(c.Refresh),
				IDToken: records.Secret(c.IDToken), Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
				AccountID: "acct-1", Scopes: []string{"user:inference"}, ClientID: "client-1"},
			Meta: map[string]string{"email": idOAuth.Label}},
		{Provider: idAPI.Provider, Namespace: idAPI.Namespace, Label: idAPI.Label, Kind: records.KindAPI,
			API: &records.APIKey{Key: records.Secret(c.APIKey)}},
		{Provider: idWK.Provider, Namespace: idWK.Namespace, Label: idWK.Label, Kind: records.KindWellKnown,
			WellKnown: &records.WellKnown{Key: "https://auth.example.com", Token: records.Secret(c.WellKnown)}},
	}
}

// fixture is a vault in a temporary directory, created with the canary
// identity and holding the canary records.
type fixture struct {
	dir string
	c   *canaries
	v   *vault.Vault
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := newCanaries(t)
	dir := filepath.Join(t.TempDir(), "vault")
	ctx := context.Background()
	r, err := vault.ParseRecipient(c.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Create(ctx, dir, []age.Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	for _, rec := range canaryRecords(c) {
		if _, err := v.Put(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.UpdateState(ctx, "canary-state", func([]byte) ([]byte, error) {
		return []byte(`{"note":"state of dave@example.com"}`), nil
	}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, c: c, v: v}
	dek := f.dataKey(t)
	c.addKey("data key", dek)
	h, _ := readHeader(t, dir)
	for _, purpose := range []string{"records", "manifest", "state", "names", "header mac"} {
		c.addKey(purpose+" key", purposeKey(t, dek, h.VaultID, purpose))
	}
	return f
}

// open opens the fixture's vault afresh, as another process would.
func (f *fixture) open(t *testing.T, opts ...vault.Option) *vault.Vault {
	t.Helper()
	v, err := vault.Open(context.Background(), f.dir, []age.Identity{f.c.identity}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// headerFile is vault.json as documented in SECURITY.md.
type headerFile struct {
	Format     int       `json:"format"`
	VaultID    string    `json:"vault_id"`
	Created    time.Time `json:"created"`
	Recipients []string  `json:"recipients"`
	DataKey    string    `json:"data_key"`
	MAC        string    `json:"mac"`
}

func readHeader(t testing.TB, dir string) (*headerFile, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "vault.json"))
	if err != nil {
		t.Fatal(err)
	}
	var h headerFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		t.Fatalf("vault.json: %v", err)
	}
	return &h, raw
}

// unwrapDataKey opens vault.json's data_key, an armored age file, with id.
func unwrapDataKey(t testing.TB, h *headerFile, id age.Identity) []byte {
	t.Helper()
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(h.DataKey)), id)
	if err != nil {
		t.Fatalf("data_key: %v", err)
	}
	dek, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return dek
}

func (f *fixture) dataKey(t testing.TB) []byte {
	h, _ := readHeader(t, f.dir)
	return unwrapDataKey(t, h, f.c.identity)
}

// files returns every regular file under dir, relative, sorted.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// recordFiles returns the record files under dir/records.
func recordFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for _, f := range files(t, dir) {
		if strings.HasPrefix(f, "records/") && strings.HasSuffix(f, ".avr") {
			out = append(out, f)
		}
	}
	return out
}

// copyDir copies a vault directory with its modes, for snapshots.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// helper starts the test binary as a helper process in role, with extra
// environment variables, and returns the command (not started).
func helper(t testing.TB, role string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), envRole+"="+role), env...)
	return cmd
}

// runHelperProc runs a helper to completion and returns its exit code,
// standard output and standard error.
func runHelperProc(t testing.TB, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// deadline returns a context bounded by d, as a safety net only: tests
// never wait for time to pass.
func deadline(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
