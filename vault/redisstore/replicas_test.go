package redisstore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/internal/vaulttest"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

// The replica tests re-execute the test binary: each child is a replica
// process with its own connection to Redis, as a service's replicas on
// several machines would be.
const (
	helperEnv    = "AUTHVAULT_REDISSTORE_HELPER"
	helperURL    = "AUTHVAULT_REDISSTORE_URL"
	helperKey    = "AUTHVAULT_REDISSTORE_KEY"
	helperN      = "AUTHVAULT_REDISSTORE_N"
	helperTarget = "AUTHVAULT_REDISSTORE_TARGET"
)

var counterID = records.ID{Provider: "test", Namespace: "default", Label: "counter"}

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process only")
	}
	if err := runHelper(mode, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelper(mode string, in io.Reader, out io.Writer) error {
	ctx := context.Background()
	id, err := age.ParseX25519Identity(os.Getenv(helperKey))
	if err != nil {
		return err
	}
	v, err := openVaultErr(os.Getenv(helperURL), id)
	if err != nil {
		return err
	}
	defer v.Close()
	switch mode {
	case "increment":
		n, _ := strconv.Atoi(os.Getenv(helperN))
		for i := 0; i < n; i++ {
			if _, err := v.Update(ctx, counterID, increment); err != nil {
				return err
			}
		}
		return nil
	case "refresh":
		return refreshHelper(ctx, v)
	case "pool":
		return vaulttest.DrivePool(ctx, v, pool.Key{Provider: "test", Namespace: "default"}, in, out)
	case "stall":
		// Take the vault lock, say so, and wait for the parent's word
		// before committing: the parent pauses this process meanwhile.
		lines := bufio.NewScanner(in)
		_, err := v.Update(ctx, counterID, func(r *records.Record) error {
			fmt.Fprintln(out, "locked")
			if !lines.Scan() {
				return errors.New("no go-ahead from the parent")
			}
			return increment(r)
		})
		switch {
		case err == nil:
			fmt.Fprintln(out, "committed")
		case errors.Is(err, redisstore.ErrLockLost):
			fmt.Fprintln(out, "lock lost")
		default:
			fmt.Fprintln(out, "error:", err)
		}
		return nil
	}
	return fmt.Errorf("unknown mode %q", mode)
}

func increment(r *records.Record) error {
	c, err := strconv.Atoi(r.Meta["count"])
	if err != nil {
		return err
	}
	r.Meta["count"] = strconv.Itoa(c + 1)
	return nil
}

func helperCmd(mode, raw string, id *age.X25519Identity, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperURL+"="+raw, helperKey+"="+id.String())
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// runReplicas runs procs helper processes at once and reports their
// failures.
func runReplicas(t *testing.T, procs int, mode, raw string, id *age.X25519Identity, env ...string) {
	t.Helper()
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			out, err := helperCmd(mode, raw, id, env...).CombinedOutput()
			if err != nil {
				t.Errorf("replica %d: %v: %s", p, err, out)
			}
		}(p)
	}
	wg.Wait()
}

func putCounter(t *testing.T, v *vault.Vault) {
	t.Helper()
	c := apiRecord("test", "counter", "k")
	c.Meta = map[string]string{"count": "0"}
	mustPut(t, v, c)
}

func count(t *testing.T, v *vault.Vault) int {
	t.Helper()
	r, err := v.Get(context.Background(), counterID)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(r.Meta["count"])
	return n
}

// Four replica processes increment one record 50 times each through the
// vault's read-modify-write: not one increment is lost.
func TestReplicasUpdateLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const procs, n = 4, 50
	raw := sharedURL(t)
	id := newIdentity(t)
	v := createVault(t, raw, id)
	putCounter(t, v)
	runReplicas(t, procs, "increment", raw, id, helperN+"="+strconv.Itoa(n))
	if got := count(t, openVault(t, raw, id)); got != procs*n {
		t.Fatalf("count = %d, want %d", got, procs*n)
	}
	if rep, err := v.Verify(context.Background()); err != nil || rep.Orphans != 0 {
		t.Fatalf("Verify: %+v %v", rep, err)
	}
}

// oauthServer issues single-use refresh tokens: a reuse revokes the
// family, as providers that rotate refresh tokens do.
type oauthServer struct {
	*httptest.Server
	mu      sync.Mutex
	live    map[string]bool
	used    map[string]bool
	grants  int
	reuses  int
	onIssue func(access string)
}

func newOAuthServer(t *testing.T, refresh string) *oauthServer {
	s := &oauthServer{live: map[string]bool{refresh: true}, used: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.token))
	t.Cleanup(s.Close)
	return s
}

func (s *oauthServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "refresh_token" {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	rt := r.Form.Get("refresh_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants++
	if s.used[rt] || !s.live[rt] {
		if s.used[rt] {
			s.reuses++
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
		return
	}
	s.used[rt] = true
	access := fmt.Sprintf("fresh-access-%d", s.grants)
	s.live[fmt.Sprintf("fresh-refresh-%d", s.grants)] = true
	if s.onIssue != nil {
		s.onIssue(access)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "refresh_token": fmt.Sprintf("fresh-refresh-%d", s.grants),
		"token_type": "Bearer", "expires_in": 3600})
}

func (s *oauthServer) counts() (grants, reuses int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants, s.reuses
}

// upstream answers 200 to requests with an accepted bearer token, 401
// otherwise, and records which token each request carried.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	accepted map[string]bool
	seen     []string
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{accepted: map[string]bool{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		u.mu.Lock()
		u.seen = append(u.seen, tok)
		ok := u.accepted[tok]
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		io.WriteString(w, `{"id":"x","object":"chat.completion","choices":[]}`)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) accept(tok string) {
	u.mu.Lock()
	u.accepted[tok] = true
	u.mu.Unlock()
}

func (u *upstream) tokens() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// refreshHelper sends four concurrent requests through a transport whose
// only account's token has expired.
func refreshHelper(ctx context.Context, v *vault.Vault) error {
	p, err := pool.Open(ctx, v, pool.Key{Provider: "fake", Namespace: "default"})
	if err != nil {
		return err
	}
	defer p.Close()
	a, err := bearer.New("fake")
	if err != nil {
		return err
	}
	client := &http.Client{Transport: transport.New(p, a, transport.WithOrigins(os.Getenv(helperTarget)))}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(os.Getenv(helperTarget)+"/v1/chat/completions", "application/json", strings.NewReader("{}"))
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(slicesOf(errs)...)
}

func slicesOf(c chan error) []error {
	var out []error
	for e := range c {
		out = append(out, e)
	}
	return out
}

// The refresh race across replica processes: 4 replicas × 4 requests
// start with the same expired token and a single-use refresh token. The
// per-record lock in Redis lets exactly one refresh happen; every other
// request adopts its result.
func TestReplicasRefreshOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const procs = 4
	raw := sharedURL(t)
	id := newIdentity(t)
	srv := newOAuthServer(t, "ref1")
	up := newUpstream(t)
	srv.onIssue = up.accept
	v := createVault(t, raw, id)
	r := &records.Record{Provider: "fake", Namespace: "default", Label: "acct1", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: "tok1", Refresh: "ref1", Expiry: time.Now().Add(-time.Hour),
			ClientID: "test-client", TokenURL: srv.URL}}
	mustPut(t, v, r)

	runReplicas(t, procs, "refresh", raw, id, helperTarget+"="+up.URL)
	grants, reuses := srv.counts()
	if grants != 1 || reuses != 0 {
		t.Fatalf("%d refresh grants, %d reuses; want exactly 1 and 0", grants, reuses)
	}
	seen := up.tokens()
	if len(seen) != procs*4 {
		t.Fatalf("upstream saw %d requests, want %d", len(seen), procs*4)
	}
	for _, tok := range seen {
		if tok != "fresh-access-1" {
			t.Fatalf("a request used %q", tok)
		}
	}
	got, err := openVault(t, raw, id).Get(context.Background(), r.ID())
	if err != nil || got.OAuth.Refresh.Reveal() != "fresh-refresh-1" {
		t.Fatalf("stored record: %v %v", got, err)
	}
}

// child is a helper process driven line by line.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *strings.Builder
}

func startChild(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	c := &child{t: t, cmd: cmd, stderr: &strings.Builder{}}
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.lines = bufio.NewScanner(stdout)
	t.Cleanup(func() {
		c.stdin.Close()
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

func (c *child) send(line string) {
	c.t.Helper()
	if _, err := fmt.Fprintln(c.stdin, line); err != nil {
		c.t.Fatalf("to the replica: %v (stderr: %s)", err, c.stderr)
	}
}

func (c *child) read() string {
	c.t.Helper()
	if !c.lines.Scan() {
		c.t.Fatalf("the replica said nothing more: %v (stderr: %s)", c.lines.Err(), c.stderr)
	}
	return c.lines.Text()
}

func (c *child) ask(line string) string {
	c.t.Helper()
	c.send(line)
	return c.read()
}

func (c *child) wait() {
	c.t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		c.t.Errorf("replica: %v (stderr: %s)", err, c.stderr)
	}
}

// A cooldown reported in one replica process is honoured by the other's
// very next Acquire, both ways: the pool state is a blob in Redis.
func TestReplicasShareCooldowns(t *testing.T) {
	ctx := context.Background()
	raw := sharedURL(t)
	id := newIdentity(t)
	v := createVault(t, raw, id)
	for _, l := range []string{"a", "b", "c"} {
		mustPut(t, v, apiRecord("test", l, "key-"+l))
	}
	b := startChild(t, helperCmd("pool", raw, id))

	pa, err := pool.Open(ctx, openVault(t, raw, id), pool.Key{Provider: "test", Namespace: "default"}, pool.WithRelistInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	if got := b.ask("acquire"); got != "a" {
		t.Fatalf("replica B's first account %q, want a", got)
	}
	l, err := pa.Acquire(ctx, pool.Hint{})
	if err != nil || l.ID.Label != "a" {
		t.Fatalf("replica A's first account: %v %v", l, err)
	}
	if err := pa.Report(l, pool.Outcome{Kind: pool.RateLimited, Until: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := b.ask("acquire"); got != "b" {
		t.Errorf("replica B after A's 429 on a: %q, want b", got)
	}
	if got := b.ask("ratelimit"); got != "ok" {
		t.Fatalf("replica B: %q", got)
	}
	l, err = pa.Acquire(ctx, pool.Hint{})
	if err != nil || l.ID.Label != "c" {
		t.Errorf("replica A after B's 429 on b: %v %v, want c", l, err)
	}
	if got := b.ask("quit"); got != "bye" {
		t.Errorf("replica B: %q", got)
	}
	b.wait()
}
