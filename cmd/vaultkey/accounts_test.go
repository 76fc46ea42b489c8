package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

func TestAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSandbox(t)
	s.initFile()
	s.run(0, "accounts", "list") // no accounts yet: a note, exit 0

	keys := map[string]string{
		"anthropic/default/first":  "sk-ant-canary-first-000",
		"anthropic/default/second": "sk-ant-canary-second-111",
		"anthropic/default/third":  "sk-ant-canary-third-222",
		"openai/work/team":         "sk-canary-openai-team-333",
	}
	// The key is read from stdin: never from argv, never echoed.
	for _, id := range []string{"anthropic/default/first", "anthropic/default/second", "anthropic/default/third"} {
		parts := strings.Split(id, "/")
		r := s.runIn(keys[id]+"\n", 0, "accounts", "add-key", parts[0], "--label", parts[2])
		if strings.TrimSpace(r.stdout) != "added "+id+" (api key)" {
			t.Errorf("add-key:\n%s", r)
		}
		s.addSecret(keys[id])
	}
	// Flags before the positional argument work as well as after.
	s.addSecret(keys["openai/work/team"])
	s.runIn(keys["openai/work/team"], 0, "accounts", "add-key", "--namespace", "work", "--label", "team", "openai")

	v := openVault(t, s.dir, s.identitiesFromFile())
	for id, key := range keys {
		rid, _ := records.ParseID(id)
		rec, err := v.Get(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind != records.KindAPI || rec.API.Key.Reveal() != key {
			t.Errorf("%s: stored %s record with another key", id, rec.Kind)
		}
	}

	// Errors: an existing account, an empty key, an invalid id, no label.
	if r := s.runIn("sk-other", 1, "accounts", "add-key", "anthropic", "--label", "first"); !strings.Contains(r.stderr, "already exists") {
		t.Errorf("add-key over an existing account:\n%s", r)
	}
	if r := s.runIn("\n", 1, "accounts", "add-key", "anthropic", "--label", "empty"); !strings.Contains(r.stderr, "empty") {
		t.Errorf("add-key with an empty key:\n%s", r)
	}
	s.addSecret("sk-two words")
	if r := s.runIn("sk-two words", 1, "accounts", "add-key", "anthropic", "--label", "spaces"); !strings.Contains(r.stderr, "white space") {
		t.Errorf("add-key with white space in the key:\n%s", r)
	}
	s.run(2, "accounts", "add-key", "Anthropic", "--label", "x")
	s.run(2, "accounts", "add-key", "anthropic")
	s.run(2, "accounts", "add-key", "anthropic", "--label", "a/b")

	// Pool state from "another process": a cooldown and some traffic.
	now := time.Now().UTC()
	until := now.Add(30 * time.Minute).Truncate(time.Second) // under the pool's 1h cap on hints
	p, err := pool.Open(ctx, v, pool.Key{Provider: "anthropic", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		l, err := p.Acquire(ctx, pool.Hint{})
		if err != nil {
			t.Fatal(err)
		}
		p.Report(l, pool.Outcome{Kind: pool.Success, Status: 200})
	}
	l, _ := p.Acquire(ctx, pool.Hint{})
	if err := p.Report(l, pool.Outcome{Kind: pool.RateLimited, Until: until, Reason: "rate_limit_error", Status: 429}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	r := s.run(0, "accounts", "list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 {
		t.Fatalf("accounts list: %d lines, want a header and 4 accounts:\n%s", len(lines), r.stdout)
	}
	wantRows := []*regexp.Regexp{
		regexp.MustCompile(`^#\s+PROVIDER\s+NAMESPACE\s+LABEL\s+KIND\s+STATE\s+LAST USED\s+SUCCESSES\s+429S$`),
		regexp.MustCompile(`^1\s+anthropic\s+default\s+first\s+api\s+cooling until (\w{3} \d{1,2} |\d{4}-\d{2}-\d{2} )?` + until.Format("15:04:05") + ` \(rate_limit_error\)\s+(just now|\d+s ago)\s+3\s+1$`),
		regexp.MustCompile(`^2\s+anthropic\s+default\s+second\s+api\s+ready\s+never\s+0\s+0$`),
		regexp.MustCompile(`^3\s+anthropic\s+default\s+third\s+api\s+ready\s+never\s+0\s+0$`),
		regexp.MustCompile(`^1\s+openai\s+work\s+team\s+api\s+ready\s+never\s+0\s+0$`),
	}
	for i, re := range wantRows {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %s", i, lines[i], re)
		}
	}
	if r := s.run(0, "accounts", "list", "--provider", "openai"); strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("--provider openai:\n%s", r.stdout)
	}

	// --json, with the flag before the subcommand's name.
	var accts []jsonAccount
	if err := json.Unmarshal([]byte(s.run(0, "accounts", "--json", "list").stdout), &accts); err != nil {
		t.Fatal(err)
	}
	if len(accts) != 4 {
		t.Fatalf("--json: %d accounts", len(accts))
	}
	first := accts[0]
	if first.ID != "anthropic/default/first" || first.State != "cooling" || !first.Until.Equal(until) ||
		first.Stats.Successes != 3 || first.Stats.RateLimited != 1 || first.Kind != "api" || first.Position != 1 ||
		len(first.Cooldowns) != 1 || first.Cooldowns[0].Reason != "rate_limit_error" {
		t.Errorf("--json first account: %+v", first)
	}
	// A used account has its last outcome; one never used has none.
	var raw []struct {
		ID    string         `json:"id"`
		Stats map[string]any `json:"stats"`
	}
	if err := json.Unmarshal([]byte(s.run(0, "accounts", "list", "--json").stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, a := range raw {
		want := map[string]any{"anthropic/default/first": "rate-limited"}[a.ID]
		if got := a.Stats["last_outcome"]; got != want {
			t.Errorf("--json %s: last_outcome %v, want %v", a.ID, got, want)
		}
	}

	// move, disable, enable, reset, rm.
	s.run(0, "accounts", "move", "anthropic/default/third", "--to", "1")
	s.run(0, "accounts", "move", "--to", "3", "anthropic/first") // provider/label: the default namespace
	s.run(0, "accounts", "disable", "anthropic/default/second", "--reason", "billing review")
	got := listStates(t, s)
	want := []string{
		"anthropic/default/third ready",
		"anthropic/default/second disabled (billing review)",
		"anthropic/default/first cooling",
		"openai/work/team ready",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after move and disable:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s.run(0, "accounts", "enable", "anthropic/default/second")
	s.run(0, "accounts", "reset", "anthropic/default/first")
	want[1], want[2] = "anthropic/default/second ready", "anthropic/default/first ready"
	if got := listStates(t, s); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after enable and reset:\n%s", strings.Join(got, "\n"))
	}
	s.run(0, "accounts", "rm", "anthropic/default/second")
	if got := listStates(t, s); len(got) != 3 {
		t.Errorf("after rm: %v", got)
	}
	s.run(0, "accounts", "remove", "anthropic/default/third") // rm and remove alike
	if got := listStates(t, s); len(got) != 2 {
		t.Errorf("after remove: %v", got)
	}
	if r := s.run(0, "help", "accounts"); !strings.Contains(r.stdout, "(also: remove)") {
		t.Errorf("help accounts does not name remove:\n%s", r.stdout)
	}
	if r := s.run(0, "help", "accounts", "remove"); !strings.Contains(r.stdout, "Usage: vaultkey accounts rm ID\n   or: vaultkey accounts remove") {
		t.Errorf("help accounts remove:\n%s", r.stdout)
	}

	// Unknown accounts are failures; malformed ids and flags are usage errors.
	for _, args := range [][]string{
		{"accounts", "rm", "anthropic/default/second"},
		{"accounts", "disable", "anthropic/default/nobody"},
		{"accounts", "move", "openai/work/nobody", "--to", "1"},
	} {
		if r := s.run(1, args...); !strings.Contains(r.stderr, "no account") {
			t.Errorf("%v:\n%s", args, r)
		}
	}
	s.run(2, "accounts", "move", "openai/work/team", "--to", "5") // out of range: a usage error
	s.run(2, "accounts", "move", "openai/work/team")
	s.run(2, "accounts", "rm", "not-an-id")
	s.run(2, "accounts", "rm", "a/b/c/d")
	s.run(2, "accounts", "reset")
	s.run(2, "accounts", "list", "--bogus")
}

// listStates returns "id state" for every account, in list order.
func listStates(t *testing.T, s *sandbox) []string {
	t.Helper()
	var accts []jsonAccount
	if err := json.Unmarshal([]byte(s.run(0, "accounts", "list", "--json").stdout), &accts); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range accts {
		st := a.State
		if a.DisabledReason != "" {
			st += " (" + a.DisabledReason + ")"
		}
		out = append(out, a.ID+" "+st)
	}
	return out
}

// An account whose record cannot be read is named by "accounts list" and
// "status", which exit 1.
func TestAccountsUnreadable(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	s.addKey("anthropic", "first", "sk-ant-canary-unreadable-first")
	files, _ := filepath.Glob(filepath.Join(s.dir, "records", "*.avr"))
	s.addKey("anthropic", "second", "sk-ant-canary-unreadable-second")
	if len(files) != 1 {
		t.Fatalf("record files %v", files)
	}
	for _, c := range []struct {
		spoil func() error
		class string
	}{
		{func() error { return os.Chmod(files[0], 0o644) }, "permissions"},
		{func() error {
			if err := os.Chmod(files[0], 0o600); err != nil {
				return err
			}
			b, err := os.ReadFile(files[0])
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 0x40
			return os.WriteFile(files[0], b, 0o600)
		}, "tampered"},
	} {
		if err := c.spoil(); err != nil {
			t.Fatal(err)
		}
		r := s.run(1, "accounts", "list")
		want := "unreadable (" + c.class + ")"
		if !regexp.MustCompile(`(?m)^1\s+anthropic\s+default\s+first\s+api\s+`+regexp.QuoteMeta(want)).MatchString(r.stdout) ||
			!strings.Contains(r.stdout, "second") || !strings.Contains(r.stderr, "anthropic/default/first ("+c.class+")") {
			t.Errorf("accounts list with a %s record:\n%s", c.class, r)
		}
		r = s.run(1, "accounts", "list", "--json")
		var got []jsonAccount
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 2 || got[0].State != "unreadable" || got[0].Unreadable != c.class {
			t.Errorf("accounts list --json with a %s record: %v\n%s", c.class, err, r)
		}
		if r := s.run(1, "status"); !regexp.MustCompile(`unreadable\s+anthropic/default/first \(` + c.class + `\)`).MatchString(r.stdout) {
			t.Errorf("status with a %s record:\n%s", c.class, r)
		}
	}
}

// The order and a disabled account are the operator's decisions, kept in
// the records: a damaged pool state loses neither, and a backup restored
// into an empty directory, or a copy, keeps both.
func TestOperatorDecisionsSurvive(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	for _, l := range []string{"first", "second", "third"} {
		s.addKey("anthropic", l, "sk-ant-canary-decisions-"+l)
	}
	s.run(0, "accounts", "move", "anthropic/default/third", "--to", "1")
	s.run(0, "accounts", "disable", "anthropic/default/second", "--reason", "leaked key")
	want := regexp.MustCompile(`(?s)1\s+anthropic\s+default\s+third\s+api\s+ready.*\n` +
		`2\s+anthropic\s+default\s+first\s+api\s+ready.*\n` +
		`3\s+anthropic\s+default\s+second\s+api\s+disabled \(leaked key\)`)
	if r := s.run(0, "accounts", "list"); !want.MatchString(r.stdout) {
		t.Fatalf("accounts list:\n%s", r)
	}

	// Flip a byte of the sealed pool state.
	states, _ := filepath.Glob(filepath.Join(s.dir, "state", "*.avs"))
	if len(states) != 1 {
		t.Fatalf("state files %v", states)
	}
	b, err := vault.DirStore(s.dir).Read("state/" + filepath.Base(states[0]))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(states[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.run(0, "accounts", "list"); !want.MatchString(r.stdout) || !strings.Contains(r.stderr, "tampered") {
		t.Fatalf("accounts list after the state was damaged:\n%s", r)
	}

	backup, idPath := backupOf(t, s)
	dir := filepath.Join(s.root, "restored")
	s.run(0, "import", backup, "--dir", dir, "-i", idPath)
	if r := s.run(0, "--dir", dir, "accounts", "list"); !want.MatchString(r.stdout) {
		t.Fatalf("accounts list of the restored vault:\n%s", r)
	}
	copied := filepath.Join(s.root, "copied")
	s.run(0, "copy", s.dir, copied)
	if r := s.run(0, "--dir", copied, "accounts", "list"); !want.MatchString(r.stdout) {
		t.Fatalf("accounts list of the copied vault:\n%s", r)
	}
}

// Positions count from 1 and an out-of-range one is a usage error; a new
// account goes last; set-key replaces a key in place; add-key refuses an
// unknown provider unless a base URL makes it a custom one.
func TestAccountsOrderKeysProviders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSandbox(t)
	s.initFile()
	// Added in an order that is not the label order.
	for _, l := range []string{"work", "personal"} {
		s.addKey("openai", l, "sk-canary-order-"+l)
	}
	if r := s.run(0, "accounts", "list"); !regexp.MustCompile(`(?s)1\s+openai\s+default\s+work.*\n2\s+openai\s+default\s+personal`).MatchString(r.stdout) {
		t.Errorf("a new account does not go last:\n%s", r)
	}
	for _, to := range []string{"0", "3", "-1"} {
		r := s.run(2, "accounts", "move", "openai/default/work", "--to", to)
		if !strings.Contains(r.stderr, "positions 1..2") {
			t.Errorf("move --to %s:\n%s", to, r)
		}
	}
	s.run(2, "accounts", "move", "openai/default/work")
	if r := s.run(0, "accounts", "move", "openai/default/personal", "--to", "1"); !strings.Contains(r.stdout, "position 1") {
		t.Errorf("move:\n%s", r)
	}
	s.run(0, "accounts", "disable", "openai/default/work", "--reason", "rotating")

	// set-key: same account, same place, same decision, the new key.
	s.addSecret("sk-canary-order-rotated")
	if r := s.runIn("sk-canary-order-rotated\n", 0, "accounts", "set-key", "openai/default/work"); !strings.Contains(r.stdout, "replaced the API key of openai/default/work") {
		t.Errorf("set-key:\n%s", r)
	}
	if r := s.run(0, "accounts", "list"); !regexp.MustCompile(`(?s)1\s+openai\s+default\s+personal.*\n2\s+openai\s+default\s+work\s+api\s+disabled \(rotating\)`).MatchString(r.stdout) {
		t.Errorf("after set-key:\n%s", r)
	}
	v := openVault(t, s.dir, s.identitiesFromFile())
	rec, err := v.Get(ctx, records.ID{Provider: "openai", Namespace: "default", Label: "work"})
	if err != nil || rec.API.Key.Reveal() != "sk-canary-order-rotated" || rec.Position != 2 || rec.Disabled == nil {
		t.Errorf("set-key stored %v, %v", rec, err)
	}
	s.run(1, "accounts", "set-key", "openai/default/nobody")

	// Known providers only; a custom one with its base URL.
	r := s.runIn("sk-canary-typo\n", 2, "accounts", "add-key", "opnai", "--label", "x")
	if !strings.Contains(r.stderr, `unknown provider "opnai"`) || !strings.Contains(r.stderr, "anthropic, copilot, cursor, google, openai, qwen") {
		t.Errorf("add-key with a typo'd provider:\n%s", r)
	}
	s.run(2, "accounts", "add-key", "together", "--label", "me", "--base-url", "ftp://x")
	s.addSecret("sk-canary-together")
	s.runIn("sk-canary-together\n", 0, "accounts", "add-key", "together", "--label", "me", "--base-url", "https://API.together.xyz/v1/")
	rec, err = v.Get(ctx, records.ID{Provider: "together", Namespace: "default", Label: "me"})
	if err != nil || rec.Meta["base_url"] != "https://api.together.xyz/v1" {
		t.Errorf("custom provider stored %v, %v", rec, err)
	}
}
