//go:build !windows

package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmuxTerm is vaultkey ui running in a real terminal: a detached tmux
// session of its own, on a socket in the sandbox.
type tmuxTerm struct {
	s    *sandbox
	sock string
	env  []string
}

func (tt *tmuxTerm) tmux(args ...string) string {
	tt.s.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-S", tt.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = tt.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		tt.s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is the pane's text now. It is checked for secrets with every
// other output of the sandbox.
func (tt *tmuxTerm) screen() string {
	tt.s.t.Helper()
	text := tt.tmux("capture-pane", "-p", "-t", "ui")
	tt.s.record("ui (screen)", result{stdout: text}, false)
	return text
}

// waitFor polls the screen until re matches it, for at most d.
func (tt *tmuxTerm) waitFor(re string, d time.Duration) []string {
	tt.s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for {
		text := tt.screen()
		if m := rx.FindStringSubmatch(text); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			tt.s.t.Fatalf("within %v the screen did not match %s:\n%s", d, re, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tt *tmuxTerm) keys(keys ...string) {
	tt.tmux(append([]string{"send-keys", "-t", "ui"}, keys...)...)
}

func TestUIInTmux(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	s := newSandbox(t)
	r := s.runWith(runOpts{stdoutMayKey: true}, "init", "--key-store", "env")
	key, ok := strings.CutPrefix(strings.TrimSpace(r.stdout), "AUTHVAULT_KEY=")
	if r.code != 0 || !ok {
		t.Fatalf("init:\n%s", r)
	}
	s.addSecret(key)
	s.env["AUTHVAULT_KEY"] = key
	srv := rateLimitingUpstream(t, "canary-key-one-1234")
	s.addKey("acme", "one", "canary-key-one-1234", "--base-url", srv.URL)
	s.addKey("acme", "two", "canary-key-two-5678", "--base-url", srv.URL)
	s.addKey("acme", "three", "canary-key-three-9012", "--base-url", srv.URL)

	tt := &tmuxTerm{s: s, sock: filepath.Join(s.root, "tmux.sock"), env: append(s.environ(), "TERM=xterm-256color")}
	// The shell reports vaultkey's exit status and keeps the pane open.
	tt.tmux("new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", "sh", "-c", vaultkeyBin+" ui; echo EXIT=$?; sleep 600")
	t.Cleanup(func() { exec.Command("tmux", "-S", tt.sock, "kill-server").Run() })

	tt.waitFor(`acme/default · 3 accounts, 3 ready`, 30*time.Second)
	// The list is in pool order; select two and disable it with a reason.
	rows := tt.waitFor(`(?m)^ +(\d) two +API key +ready`, time.Second)
	for range mustAtoi(t, rows[1]) - 1 {
		tt.keys("j")
	}
	tt.keys("d")
	tt.waitFor(`reason for disabling two \(enter: none\):`, 5*time.Second)
	tt.keys("-l", "e2e check")
	tt.keys("Enter")
	tt.waitFor(`(?m)^disabled acme/default/two`, 10*time.Second)
	tt.waitFor(`two +API key +disabled \(e2e check\)`, 5*time.Second)
	// The terminal shrinks to 80x24 and grows back: the ui follows.
	tt.tmux("resize-window", "-t", "ui", "-x", "80", "-y", "24")
	tt.waitFor(`(?m)^\? keys .* l login …$`, 5*time.Second)
	tt.tmux("resize-window", "-t", "ui", "-x", "100", "-y", "30")
	tt.waitFor(`(?m)^\? keys .* l login  / filter  q quit$`, 5*time.Second)

	var accts []jsonAccount
	if err := json.Unmarshal([]byte(s.run(0, "accounts", "list", "--json").stdout), &accts); err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.Label == "two" && (!a.Disabled || a.State != "disabled" || a.DisabledReason != "e2e check") {
			t.Fatalf("accounts list --json after the ui disabled two: %+v", a)
		}
	}

	// A 429 from another process (this one, through authvault): within
	// 2 s the ui shows one cooling with a countdown, and the rotation.
	c := sendThroughVault(t, s, srv.URL, true)
	sent := time.Now()
	m := tt.waitFor(`one +API key +cooling (\d+)s \(rate_limited\)`, 2*time.Second)
	tt.waitFor(`\d\d:\d\d:\d\d  acme/default  one → three \(429 rate_limited\)`, 2*time.Second-time.Since(sent))
	// The countdown runs.
	first := mustAtoi(t, m[1])
	if first > 30 || first < 25 {
		t.Fatalf("countdown starts at %ds", first)
	}
	next := strconv.Itoa(first - 1)
	tt.waitFor(`one +API key +cooling `+next+`s`, 5*time.Second)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	tt.keys("q")
	tt.waitFor(`EXIT=0`, 10*time.Second)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
