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

	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/records"
)

// fixture copies migrate/testdata/src to dst in the sandbox and registers
// every token in it (they all contain CANARY) as a secret.
func (s *sandbox) fixture(src, dst string) string {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "migrate", "testdata", filepath.FromSlash(src)))
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		s.t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		s.t.Fatal(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if strings.Contains(v, "CANARY") {
				s.addSecret(v)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return dst
}

// toolFiles puts every tool's credential file where the tool keeps it,
// and returns the paths by source name.
func (s *sandbox) toolFiles() map[string]string {
	return map[string]string{
		"claude-code": s.fixture("claude-code/.credentials.json", filepath.Join(s.home, ".claude", ".credentials.json")),
		"codex":       s.fixture("codex/auth.json", filepath.Join(s.home, ".codex", "auth.json")),
		"gemini-cli":  s.fixture("gemini-cli/oauth_creds.json", filepath.Join(s.home, ".gemini", "oauth_creds.json")),
		"qwen-code":   s.fixture("qwen-code/oauth_creds.json", filepath.Join(s.home, ".qwen", "oauth_creds.json")),
		"copilot":     s.fixture("copilot/hosts.json", filepath.Join(s.config, "github-copilot", "hosts.json")),
		"opencode":    s.fixture("opencode/auth.json", filepath.Join(s.data, "opencode", "auth.json")),
	}
}

// lines returns the lines of text that start with prefix.
func lines(text, prefix string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	files := s.toolFiles()

	// A dry run reports what every location holds and changes nothing.
	before := snapshot(t, s.dir)
	r := s.run(0, "migrate", "--dry-run")
	for name, path := range files {
		if !strings.Contains(r.stdout, name+": found ") || !strings.Contains(r.stdout, path) {
			t.Errorf("the dry run does not report %s at %s:\n%s", name, path, r.stdout)
		}
	}
	if len(lines(r.stdout, "would add ")) == 0 || len(lines(r.stdout, "added ")) != 0 || !strings.Contains(r.stderr, "dry run: nothing was changed") {
		t.Errorf("dry run:\n%s", r)
	}
	if after := snapshot(t, s.dir); len(keysDiff(before, after)) != 0 {
		t.Errorf("the dry run changed the vault: %v", keysDiff(before, after))
	}

	r = s.run(0, "migrate")
	added := lines(r.stdout, "added ")
	if len(added) < 6 {
		t.Errorf("added %d accounts:\n%s", len(added), r.stdout)
	}
	for _, w := range []string{
		"added anthropic/default/claude-code (oauth) from claude-code " + files["claude-code"],
		"added qwen/default/qwen-code (oauth) from qwen-code " + files["qwen-code"],
		"added copilot/default/octocat (oauth) from copilot " + files["copilot"],
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("no %q in:\n%s", w, r.stdout)
		}
	}
	// One note per preset, naming the tool's client and whose terms apply.
	for _, w := range []string{
		"the public client of Claude Code: they are refreshed with it (preset claude-code), which is subject to Anthropic's terms",
		"(preset codex), which is subject to OpenAI's terms",
		"(preset gemini-cli), which is subject to Google's terms",
		"(preset qwen-code), which is subject to Qwen's terms",
		"(preset github-copilot), which is subject to GitHub's terms",
	} {
		if strings.Count(r.stderr, w) != 1 {
			t.Errorf("want once %q on stderr:\n%s", w, r.stderr)
		}
	}

	// Imported tokens carry the client they were issued to.
	v := openVault(t, s.dir, s.identitiesFromFile())
	byID := map[string]*records.Record{}
	for _, rec := range allRecords(t, v) {
		byID[rec.ID().String()] = rec
	}
	wantClients := map[string][2]string{
		"anthropic/default/claude-code": {anthropic.PresetClaudeCode.ID, "claude-code"},
		"google/default/":               {google.PresetGeminiCLI.ID, "gemini-cli"},
		"qwen/default/qwen-code":        {qwen.QwenCodeClientID, "qwen-code"},
		"copilot/default/octocat":       {"Iv1.b507a08c87ecfe98", "github-copilot"},
		"openai/default/":               {openai.PresetCodex.ID, "codex"},
	}
	for prefix, want := range wantClients {
		n := 0
		for id, rec := range byID {
			if !strings.HasPrefix(id, prefix) || rec.Kind != records.KindOAuth {
				continue
			}
			n++
			if rec.OAuth.ClientID != want[0] || rec.Meta[metaClientPreset] != want[1] {
				t.Errorf("%s: client %q, preset %q; want %v", id, rec.OAuth.ClientID, rec.Meta[metaClientPreset], want)
			}
		}
		if n == 0 {
			t.Errorf("no OAuth account %s*: %v", prefix, sortedIDs(byID))
		}
	}

	// Idempotent: a second run adds and updates nothing.
	before = snapshot(t, s.dir)
	r = s.run(0, "migrate")
	if len(lines(r.stdout, "added ")) != 0 || len(lines(r.stdout, "updated ")) != 0 || len(lines(r.stdout, "unchanged ")) == 0 {
		t.Errorf("second run:\n%s", r.stdout)
	}
	if after := snapshot(t, s.dir); snapshotRecords(after) != snapshotRecords(before) {
		t.Error("the second run rewrote records")
	}
	for _, path := range files {
		if _, err := os.Stat(path); err != nil {
			t.Errorf("a source was touched without --remove-source: %v", err)
		}
	}
}

// snapshotRecords is the part of a vault snapshot that holds records.
func snapshotRecords(snap map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(snap) {
		if strings.HasPrefix(k, "records") || k == "manifest.avm" {
			b.WriteString(k + "\x00" + snap[k] + "\x00")
		}
	}
	return b.String()
}

func sortedIDs(m map[string]*records.Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestMigrateProblems(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	path := s.fixture("opencode/partial.json", filepath.Join(s.data, "opencode", "auth.json"))

	// Bad entries are named by file and JSON path, never by value; the
	// good ones are imported; the exit status says not everything was.
	r := s.run(1, "migrate", "--from", "opencode", "--remove-source")
	problems := lines(r.stderr, "vaultkey: problem: opencode: "+path+": ")
	if len(problems) < 4 {
		t.Errorf("problems:\n%s", r.stderr)
	}
	for _, key := range []string{"openai.refresh", `["Not A Provider"]`, "groq", "mistral"} {
		if !strings.Contains(r.stderr, key) {
			t.Errorf("no problem names %s:\n%s", key, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "added anthropic/default/opencode (oauth)") {
		t.Errorf("the good entries were not imported:\n%s", r.stdout)
	}
	// A file with problems is never removed.
	if _, err := os.Stat(path); err != nil || !strings.Contains(r.stderr, "kept "+path) {
		t.Errorf("the source with problems was not kept (%v):\n%s", err, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^vaultkey: .*problem\(s\) in the sources.*everything else was migrated`).MatchString(r.stderr) {
		t.Errorf("no summary:\n%s", r.stderr)
	}
}

func TestMigrateRemoveSource(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	claude := s.fixture("claude-code/.credentials.json", filepath.Join(s.home, ".claude", ".credentials.json"))
	crash := func(at string) result {
		r := s.runWith(runOpts{env: map[string]string{envMigrateCrash: at}}, "migrate", "--from", "claude-code", "--remove-source")
		if r.code != 3 {
			t.Fatalf("crash at %s: %s", at, r)
		}
		return r
	}
	count := func() int { return len(allRecords(t, openVault(t, s.dir, s.identitiesFromFile()))) }

	// A crash before the commit: nothing in the vault, the source kept.
	crash("before-commit")
	if _, err := os.Stat(claude); err != nil || count() != 0 {
		t.Fatalf("before the commit: source %v, %d records", err, count())
	}
	// A crash right after it: the vault holds the account, and the
	// source is still there, since removal comes only after the commit.
	crash("after-commit")
	if _, err := os.Stat(claude); err != nil || count() != 1 {
		t.Fatalf("after the commit: source %v, %d records", err, count())
	}
	// A dry run removes nothing.
	s.run(0, "migrate", "--from", "claude-code", "--remove-source", "--dry-run")
	if _, err := os.Stat(claude); err != nil {
		t.Fatal("the dry run removed the source")
	}
	// The run that commits (here: finds the account already there)
	// removes the source.
	r := s.run(0, "migrate", "--from", "claude-code", "--remove-source")
	if !strings.Contains(r.stdout, "unchanged anthropic/default/claude-code") || !strings.Contains(r.stdout, "removed "+claude) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if _, err := os.Stat(claude); !os.IsNotExist(err) {
		t.Errorf("the source is still there: %v", err)
	}
	if count() != 1 {
		t.Error("the account is gone")
	}
}

func TestMigrateOptions(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	s.run(2, "migrate", "--path", "x.json")
	if r := s.run(2, "migrate", "--from", "nosuch"); !strings.Contains(r.stderr, "claude-code") {
		t.Errorf("unknown source does not list the sources:\n%s", r.stderr)
	}
	s.run(2, "migrate", "extra")
	s.run(2, "migrate", "--label", "a/b")

	// Nothing anywhere: said so, success.
	r := s.run(0, "migrate")
	if !strings.Contains(r.stderr, "nothing to migrate") || !strings.Contains(r.stdout, "codex: nothing found (looked at "+filepath.Join(s.home, ".codex", "auth.json")) {
		t.Errorf("empty home:\n%s", r)
	}

	// A file elsewhere, with the account's name and namespace chosen.
	path := s.fixture("codex/auth-both.json", filepath.Join(s.root, "backup", "codex.json"))
	r = s.run(0, "migrate", "--from", "codex", "--path", path, "--label", "work", "--namespace", "team")
	if !strings.Contains(r.stdout, "codex: found 2 credentials in "+path) || !strings.Contains(r.stdout, "added openai/team/work") {
		t.Errorf("--path:\n%s", r)
	}
	// Two accounts given one ID: the newer is imported, the other skipped.
	if !strings.Contains(r.stdout, "skipped openai/team/work") {
		t.Errorf("no skipped account:\n%s", r.stdout)
	}
	// A missing file is a problem.
	if r := s.run(1, "migrate", "--from", "codex", "--path", filepath.Join(s.root, "nope.json")); !strings.Contains(r.stderr, "problem: codex") {
		t.Errorf("missing file:\n%s", r)
	}
}

func TestMigrateKeepsClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSandbox(t)
	s.initFile()
	s.fixture("claude-code/.credentials.json", filepath.Join(s.home, ".claude", ".credentials.json"))
	// The vault holds an older access token of the same refresh token,
	// under a client it names.
	s.addSecret("sk-ant-oat01-CANARY-older-access")
	v := openVault(t, s.dir, s.identitiesFromFile())
	if _, err := v.Put(ctx, &records.Record{Provider: "anthropic", Namespace: "default", Label: "mine", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: "sk-ant-oat01-CANARY-older-access", Refresh: "sk-ant-ort01-CANARY-claude-refresh-8e2f",
			Expiry: time.UnixMilli(1767254400000).Add(-time.Hour), ClientID: "own-client"}}); err != nil {
		t.Fatal(err)
	}
	r := s.run(0, "migrate", "--from", "claude-code")
	if !strings.Contains(r.stdout, "updated anthropic/default/mine") {
		t.Errorf("the newer token was not taken:\n%s", r)
	}
	rec := getRecord(t, s, "anthropic/default/mine")
	if rec.OAuth.Access.Reveal() != "sk-ant-oat01-CANARY-claude-access-4b1d" || rec.OAuth.ClientID != "own-client" || rec.Meta[metaClientPreset] != "" {
		t.Errorf("the vault's client was replaced: %q %v", rec.OAuth.ClientID, rec.Meta)
	}
	if n := len(allRecords(t, v)); n != 1 {
		t.Errorf("%d records, want the one", n)
	}
}
