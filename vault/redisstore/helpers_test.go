package redisstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/redis/go-redis/v9"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

// The tests run against a real redis-server. AUTHVAULT_TEST_REDIS names a
// shared one (each test uses its own prefix and removes its keys); tests
// that kill or restart a server start their own from REDIS_SERVER_BIN or
// PATH. Without a server the tests skip, except in CI, where they fail.
const (
	envURL = "AUTHVAULT_TEST_REDIS"
	envBin = "REDIS_SERVER_BIN"
)

func noServer(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: CI must provide a Redis server", why)
	}
	t.Skip(why)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// withQuery adds query parameters ("k=v") to a URL.
func withQuery(t testing.TB, raw string, params ...string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("bad test URL: %v", err)
	}
	q := u.Query()
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// sharedURL returns the shared server's URL with a fresh prefix (and the
// given extra options); the prefix's keys are removed when the test ends.
func sharedURL(t testing.TB, params ...string) string {
	t.Helper()
	base := os.Getenv(envURL)
	if base == "" {
		noServer(t, envURL+" is not set: no Redis server to test against (install redis-server and set it to redis://127.0.0.1:PORT/0 for a server on PORT; bash .ci/run does both)")
	}
	prefix := "test-" + randHex(6)
	t.Cleanup(func() { dropPrefix(t, base, prefix) })
	return withQuery(t, base, append([]string{"prefix=" + prefix}, params...)...)
}

// rawClient is a plain go-redis client on the URL's server, for looking at
// and tampering with keys directly.
func rawClient(t testing.TB, raw string) *redis.Client {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = ""
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func prefixOf(t testing.TB, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("prefix")
}

// keysOf returns every key under the URL's prefix.
func keysOf(t testing.TB, raw string) []string {
	t.Helper()
	c := rawClient(t, raw)
	keys, err := c.Keys(context.Background(), prefixOf(t, raw)+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func dropPrefix(t testing.TB, base, prefix string) {
	c := rawClient(t, base)
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

func openStore(t testing.TB, raw string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// createVault creates a vault on the URL's store; the vault (and its
// store) are closed when the test ends.
func createVault(t testing.TB, raw string, id *age.X25519Identity, opts ...vault.Option) *vault.Vault {
	t.Helper()
	s, err := redisstore.Open(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Create(context.Background(), s.String(), []age.Recipient{id.Recipient()}, append(opts, vault.WithStore(s))...)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// openVault opens the vault as another replica would: its own connection.
func openVault(t testing.TB, raw string, id age.Identity) *vault.Vault {
	t.Helper()
	v, err := openVaultErr(raw, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func openVaultErr(raw string, id age.Identity) (*vault.Vault, error) {
	s, err := redisstore.Open(context.Background(), raw)
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(context.Background(), s.String(), []age.Identity{id}, vault.WithStore(s))
	if err != nil {
		s.Close()
		return nil, err
	}
	return v, nil
}

func apiRecord(provider, label, key string) *records.Record {
	return &records.Record{Provider: provider, Namespace: records.DefaultNamespace, Label: label,
		Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(key)}}
}

func oauthRecord(provider, label, access, refresh string) *records.Record {
	return &records.Record{Provider: provider, Namespace: records.DefaultNamespace, Label: label,
		Kind: records.KindOAuth, OAuth: &records.OAuth{
			Access: records.Secret(access), Refresh: records.Secret(refresh),
			Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Scopes: []string{"a", "b"}, ClientID: "client"},
		Meta: map[string]string{"email": label}}
}

func mustPut(t testing.TB, v *vault.Vault, r *records.Record) *records.Record {
	t.Helper()
	out, err := v.Put(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// server is a redis-server of the test's own, for tests that kill,
// restart or otherwise disturb it.
type server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
}

// startServer starts redis-server on a free loopback port with the extra
// arguments, and stops it when the test ends.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	bin := os.Getenv(envBin)
	if bin == "" {
		bin, _ = exec.LookPath("redis-server")
	}
	if bin == "" {
		noServer(t, "no redis-server binary ("+envBin+" unset and none on PATH): install redis-server")
	}
	s := &server{t: t, bin: bin, dir: t.TempDir(), port: freePort(t), args: args}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start (re)starts the server on its port, with its data directory, and
// waits until it answers.
func (s *server) start() {
	s.t.Helper()
	args := append([]string{"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--save", "",
		"--dir", s.dir, "--daemonize", "no", "--logfile", filepath.Join(s.dir, "redis.log")}, s.args...)
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if s.answers() {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server on %s did not come up: %s", s.addr(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answers reports whether the server replies to PING (a NOAUTH refusal
// counts: it is up; LOADING does not).
func (s *server) answers() bool {
	c, err := net.DialTimeout("tcp", s.addr(), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprint(c, "PING\r\n"); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH"))
}

// kill stops the server with SIGKILL: no shutdown, no last save.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}
