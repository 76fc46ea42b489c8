package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/keysource"
)

// rateLimitingUpstream answers 429 (Retry-After 30) to the key "limited"
// and 200 to any other.
func rateLimitingUpstream(t *testing.T, limited string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+limited {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// sendThroughVault sends one request with the sandbox's "acme" accounts
// from this process, as any program using authvault would, and closes
// its client (which writes its events) unless keepOpen.
func sendThroughVault(t *testing.T, s *sandbox, url string, keepOpen bool) *authvault.Client {
	t.Helper()
	a, err := bearer.New("acme")
	if err != nil {
		t.Fatal(err)
	}
	var ids []age.Identity
	if k := s.env["AUTHVAULT_KEY"]; k != "" {
		if ids, err = keysource.ParseIdentities([]byte(k)); err != nil {
			t.Fatal(err)
		}
	} else {
		ids = s.identitiesFromFile()
	}
	c, err := authvault.Open(context.Background(), "acme", authvault.WithVault(openVault(t, s.dir, ids)), authvault.WithAdapter(a),
		authvault.WithOrigins(url))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.HTTP.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !keepOpen {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAccountsEvents(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	if r := s.run(0, "accounts", "events"); r.stdout != "" {
		t.Fatalf("no log yet:\n%s", r)
	}
	srv := rateLimitingUpstream(t, "canary-key-one-1234")
	s.addKey("acme", "one", "canary-key-one-1234", "--base-url", srv.URL)
	s.addKey("acme", "two", "canary-key-two-5678", "--base-url", srv.URL)
	sendThroughVault(t, s, srv.URL, false)

	r := s.run(0, "accounts", "events")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 ||
		!strings.HasSuffix(lines[0], "  acme/default  one cooling 30s (429 rate_limited)") ||
		!strings.HasSuffix(lines[1], "  acme/default  one → two (429 rate_limited)") {
		t.Fatalf("accounts events:\n%s", r)
	}
	r = s.run(0, "accounts", "events", "--json")
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e eventlog.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		kinds = append(kinds, string(e.Kind)+" "+e.Account)
	}
	if strings.Join(kinds, ",") != "cooldown acme/default/one,rotate acme/default/two" {
		t.Fatalf("--json: %v\n%s", kinds, r)
	}
	s.run(2, "accounts", "events", "extra")
}

func TestAccountsEventsFollow(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	srv := rateLimitingUpstream(t, "canary-key-one-1234")
	s.addKey("acme", "one", "canary-key-one-1234", "--base-url", srv.URL)
	s.addKey("acme", "two", "canary-key-two-5678", "--base-url", srv.URL)

	cmd := exec.Command(vaultkeyBin, "accounts", "events", "--follow", "--json")
	cmd.Env = s.environ()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The client stays open: its events reach the follower written behind.
	sendThroughVault(t, s, srv.URL, true)
	var got []string
	timeout := time.After(30 * time.Second)
	for len(got) < 2 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("--follow ended: %s", stderr.String())
			}
			var e eventlog.Entry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, string(e.Kind))
		case <-timeout:
			t.Fatalf("--follow printed %v", got)
		}
	}
	if strings.Join(got, ",") != "cooldown,rotate" {
		t.Fatalf("--follow printed %v", got)
	}
	// Ctrl-C ends it without an error.
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after Ctrl-C: %v %s", err, stderr.String())
	}
}
