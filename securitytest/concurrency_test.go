//go:build unix

package securitytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// Concurrent Updates from several processes lose nothing: each
// read-modify-write runs under the vault's cross-process lock and reads
// the record from disk.
func TestNoLostUpdateAcrossProcesses(t *testing.T) {
	const procs, each = 4, 20
	f := newFixture(t)
	var cmds []*helperRun
	for i := 0; i < procs; i++ {
		cmds = append(cmds, startHelper(t, helper(t, "update", envDir+"="+f.dir, envArg+"="+strconv.Itoa(each), "AUTHVAULT_KEY="+f.c.Identity)))
	}
	for _, c := range cmds {
		c.wait(t)
	}
	got, err := f.open(t).Get(context.Background(), idAPI)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta["n"] != strconv.Itoa(procs*each) {
		t.Fatalf("counter is %s after %d updates", got.Meta["n"], procs*each)
	}
}

// helperRun is a started helper process.
type helperRun struct {
	stdin          io.WriteCloser
	done           chan struct{}
	code           int
	stdout, stderr string
}

type cmdOutput struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (c *cmdOutput) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func startHelper(t *testing.T, cmd *exec.Cmd) *helperRun {
	t.Helper()
	var out, errOut cmdOutput
	cmd.Stdout, cmd.Stderr = &out, &errOut
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helperRun{stdin: stdin, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		h.code = cmd.ProcessState.ExitCode()
		if err != nil && h.code == 0 {
			h.code = -1
		}
		h.stdout, h.stderr = out.buf.String(), errOut.buf.String()
		close(h.done)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			cmd.Process.Kill()
			<-h.done
		}
	})
	return h
}

// wait waits for the helper and fails t unless it succeeded.
func (h *helperRun) wait(t *testing.T) {
	t.Helper()
	h.stdin.Close()
	<-h.done
	if h.code != 0 {
		t.Fatalf("helper exited %d:\n%s\n%s", h.code, h.stdout, h.stderr)
	}
}

// tokenServer is an OAuth token endpoint whose refresh tokens are
// single-use, as Anthropic's and OpenAI's are, and an API that accepts the
// access tokens it issued.
type tokenServer struct {
	*httptest.Server
	mu       sync.Mutex
	current  string         // the one valid refresh token
	uses     map[string]int // refresh token -> times presented
	access   map[string]bool
	refreshs int
}

func newTokenServer(t *testing.T, refresh string) *tokenServer {
	ts := &tokenServer{current: refresh, uses: map[string]int{}, access: map[string]bool{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		switch r.URL.Path {
		case "/token":
			var body struct {
				RefreshToken string `json:"refresh_token"`
			}
			json.NewDecoder(r.Body).Decode(&body)
			ts.uses[body.RefreshToken]++
			if body.RefreshToken != ts.current {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"invalid_grant"}`)
				return
			}
			ts.refreshs++
			acc := fmt.Sprintf("issued-access-%d", ts.refreshs)
			ts.current = fmt.Sprintf("issued-refresh-%d", ts.refreshs)
			ts.access[acc] = true
			fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"expires_in":3600,"token_type":"Bearer"}`, acc, ts.current)
		default:
			if !ts.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid token"}}`)
				return
			}
			io.WriteString(w, `{"id":"msg_1","type":"message"}`)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// newBareVault creates an empty vault with the canary identity.
func newBareVault(t *testing.T, c *canaries) (string, *vault.Vault) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vault")
	r, err := vault.ParseRecipient(c.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Create(context.Background(), dir, []age.Recipient{r})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return dir, v
}

// An expired token shared by several processes is refreshed once, and
// its single-use refresh token is sent once: the others adopt the new
// token under the per-record lock.
func TestRefreshTokenUsedOnceAcrossProcesses(t *testing.T) {
	const procs, each = 4, 5
	c := newCanaries(t)
	ts := newTokenServer(t, c.Refresh)
	dir, v := newBareVault(t, c)
	_, err := v.Put(context.Background(), &records.Record{Provider: "anthropic", Namespace: "default", Label: "alice@example.com",
		Kind: records.KindOAuth, OAuth: &records.OAuth{Access: records.Secret(c.Access), Refresh: records.Secret(c.Refresh),
			Expiry: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), ClientID: "client-1", TokenURL: ts.URL + "/token"}})
	if err != nil {
		t.Fatal(err)
	}
	var runs []*helperRun
	for i := 0; i < procs; i++ {
		runs = append(runs, startHelper(t, helper(t, "refresh", envDir+"="+dir, envURL+"="+ts.URL,
			envArg+"="+strconv.Itoa(each), "AUTHVAULT_KEY="+c.Identity)))
	}
	for _, r := range runs { // all start at once
		r.stdin.Write([]byte{1})
		r.stdin.Close()
	}
	for _, r := range runs {
		r.wait(t)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for rt, n := range ts.uses {
		if n > 1 {
			t.Errorf("refresh token %q was sent %d times", rt, n)
		}
	}
	if ts.refreshs != 1 {
		t.Errorf("%d refreshes for one expired token", ts.refreshs)
	}
}

// Readers take no lock and never see a torn or mixed record while another
// process rewrites it: every Get returns some whole version.
func TestReadersSeeWholeRecords(t *testing.T) {
	ctx := deadline(t, 2*time.Minute)
	f := newFixture(t)
	w := startHelper(t, helper(t, "writer", envDir+"="+f.dir, envArg+"=150", "AUTHVAULT_KEY="+f.c.Identity))
	w.stdin.Close()
	cached := f.open(t)
	reads := 0
	var lastGen uint64
	check := func(v *vault.Vault, monotonic bool) {
		r, err := v.Get(ctx, idOAuth)
		if err != nil {
			t.Fatalf("Get during concurrent writes: %v", err)
		}
		reads++
		a, rf := r.OAuth.Access.Reveal(), r.OAuth.Refresh.Reveal()
		switch {
		case a == f.c.Access && rf == f.c.Refresh:
		case strings.TrimPrefix(a, "access-") == strings.TrimPrefix(rf, "refresh-") && strings.TrimPrefix(a, "access-") == r.Meta["n"]:
		default:
			t.Fatalf("mixed record: access %q, refresh %q, n %q", a, rf, r.Meta["n"])
		}
		if monotonic {
			if r.Generation < lastGen {
				t.Fatalf("generation went back from %d to %d", lastGen, r.Generation)
			}
			lastGen = r.Generation
		}
	}
	for done := false; !done; {
		select {
		case <-w.done:
			done = true
		default:
		}
		check(cached, true)
		if reads%10 == 0 {
			v, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity})
			if err != nil {
				t.Fatalf("Open during concurrent writes: %v", err)
			}
			check(v, false)
			v.Close()
		}
	}
	w.wait(t)
	check(cached, true)
	t.Logf("%d reads overlapped 150 writes", reads)
	if reads < 20 {
		t.Fatalf("only %d reads overlapped the writer", reads)
	}
}
