package main

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestHelpAndUsage(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)

	r := s.run(2)
	if !strings.Contains(r.stderr, "Usage: vaultkey [--dir DIR] COMMAND") || r.stdout != "" {
		t.Errorf("no arguments:\n%s", r)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := s.run(0, args...)
		for _, c := range []string{"init", "status", "export", "import", "rotate", "recipients", "accounts", "version"} {
			if !regexp.MustCompile(`(?m)^  ` + c + `\s`).MatchString(r.stdout) {
				t.Errorf("%v does not list %s:\n%s", args, c, r.stdout)
			}
		}
	}
	// "help CMD" and "CMD -h" print the same manual on stdout.
	for _, path := range [][]string{{"init"}, {"export"}, {"import"}, {"rotate"}, {"status"}, {"accounts"}, {"accounts", "list"}, {"recipients", "remove"}} {
		h := s.run(0, append([]string{"help"}, path...)...)
		if !strings.HasPrefix(h.stdout, "Usage: vaultkey "+strings.Join(path, " ")) {
			t.Errorf("help %v:\n%s", path, h.stdout)
		}
		for _, flagArg := range []string{"-h", "--help"} {
			if r := s.run(0, append(path, flagArg)...); r.stdout != h.stdout {
				t.Errorf("%v %s differs from help %v", path, flagArg, path)
			}
		}
	}
	if r := s.run(0, "help", "export"); !strings.Contains(r.stdout, "age 1.1.1") {
		t.Error("export's help does not say which age versions decrypt post-quantum backups")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, `unknown command "nosuch"`},
		{[]string{"help", "nosuch"}, `unknown command "nosuch"`},
		{[]string{"help", "accounts", "nosuch"}, `no subcommand "nosuch"`},
		{[]string{"--bogus", "status"}, "flag provided but not defined"},
		{[]string{"status", "--bogus"}, "usage: vaultkey status [--json]"},
		{[]string{"status", "extra"}, `unexpected argument "extra"`},
		{[]string{"init", "--key-store", "cloud"}, "want keyring, file or env"},
		{[]string{"accounts"}, "name a subcommand"},
		{[]string{"accounts", "--reason", "x"}, "name a subcommand"},
		{[]string{"accounts", "nosuch"}, `unknown subcommand "nosuch"`},
		{[]string{"accounts", "rm", "--", "-x/y/z"}, "invalid record id"},
		{[]string{"accounts", "move", "a/b/c", "--to"}, "flag needs an argument"},
		{[]string{"recipients"}, "name a subcommand"},
	} {
		r := s.run(2, tc.args...)
		if !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "vaultkey: ") {
			t.Errorf("%v: want %q on stderr:\n%s", tc.args, tc.want, r)
		}
		if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 0 && tc.args[0] != "--bogus" {
			t.Errorf("%v: the error is %d lines, want one:\n%s", tc.args, n+1, r.stderr)
		}
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	for _, args := range [][]string{
		{"status"},
		{"accounts", "list"},
		{"rotate"},
		{"export", "--passphrase", "-o", "x.age"},
	} {
		r := s.run(1, args...)
		if !strings.HasPrefix(r.stderr, "vaultkey: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: want one line on stderr:\n%s", args, r.stderr)
		}
		if args[0] == "status" && !strings.Contains(r.stderr, "vaultkey init") {
			t.Errorf("status without a vault does not say how to make one:\n%s", r.stderr)
		}
	}
}

func TestFlagsAnywhere(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	dir := filepath.Join(s.root, "elsewhere")
	// --dir before the command, after it, and after a positional argument.
	s.run(0, "--dir", dir, "init", "--key-store", "file")
	s.initFileSecrets()
	for _, args := range [][]string{
		{"--dir", dir, "status"},
		{"status", "--dir", dir},
		{"status", "--dir=" + dir, "--json"},
		{"accounts", "list", "--dir", dir},
		{"accounts", "--dir", dir, "list"},
	} {
		r := s.run(0, args...)
		if !strings.Contains(r.stdout, dir) && args[0] == "status" {
			t.Errorf("%v did not use %s:\n%s", args, dir, r.stdout)
		}
	}
	s.addSecret("sk-canary-anywhere")
	s.runIn("sk-canary-anywhere", 0, "accounts", "add-key", "openai", "--dir", dir, "--label", "x")
	s.runIn("", 0, "--dir", dir, "accounts", "disable", "openai/x", "--reason", "r")
	s.runIn("", 0, "accounts", "--dir", dir, "enable", "openai/default/x")
	// Without --dir the default vault (AUTHVAULT_DIR) has none.
	s.run(1, "accounts", "list")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	r := s.run(0, "version")
	if !regexp.MustCompile(`^vaultkey \S+ \(go\S+ \S+/\S+\)\n$`).MatchString(r.stdout) {
		t.Errorf("version: %q", r.stdout)
	}
	s.run(2, "version", "extra")
	for _, flag := range []string{"--version", "-v", "-version"} {
		if got := s.run(0, flag); got.stdout != r.stdout {
			t.Errorf("%s printed %q, want what version prints, %q", flag, got.stdout, r.stdout)
		}
	}
	s.run(2, "--version", "status")
}

// TestVersionFromClone builds vaultkey the way the README says, in a git
// clone, and checks that the version names the commit.
func TestVersionFromClone(t *testing.T) {
	t.Parallel()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed (apt-get install git)")
	}
	out, err := exec.Command(gitBin, "rev-parse", "--show-toplevel", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git clone")
	}
	lines := strings.Fields(string(out))
	top, head := lines[0], lines[1]
	if fi, err := os.Stat(filepath.Join(top, ".git")); err != nil || !fi.IsDir() {
		t.Skip("a git worktree, which the go command does not stamp: run in a clone")
	}
	bin := filepath.Join(t.TempDir(), "vaultkey")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	got, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), head[:12]) {
		t.Errorf("vaultkey --version printed %q: it does not name the commit %s", got, head)
	}
}

func TestVersionOf(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "3508e26e8c9b9b5e1638569db34772771f783285"
	for _, c := range []struct {
		info *debug.BuildInfo
		want string
	}{
		{nil, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261203160040-3508e26e8c9b+dirty"}, Settings: vcs(rev, "true")},
			"v0.0.0-20261203160040-3508e26e8c9b+dirty"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "devel+3508e26e8c9b"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "devel+3508e26e8c9b-dirty"},
	} {
		if got := versionOf(c.info); got != c.want {
			t.Errorf("versionOf(%+v) = %q, want %q", c.info, got, c.want)
		}
	}
}

// TestHelpMentionsEveryFlag keeps the manuals in step with the flags.
func TestHelpMentionsEveryFlag(t *testing.T) {
	var check func(c *command, path string)
	check = func(c *command, path string) {
		if c.synopsis == "" || c.summary == "" || c.help == "" {
			t.Errorf("%s: missing synopsis, summary or help", path)
		}
		if !strings.HasPrefix(c.synopsis, path) {
			t.Errorf("%s: synopsis %q does not start with the command", path, c.synopsis)
		}
		if len(c.subs) > 0 {
			for _, s := range c.subs {
				check(s, path+" "+s.name)
			}
			return
		}
		var dir string
		fs := newFlagSet(path, &dir)
		c.setup(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "dir" {
				return
			}
			want := "--" + f.Name
			if len(f.Name) == 1 {
				want = "-" + f.Name
			}
			if !strings.Contains(c.help, want) && !strings.Contains(c.synopsis, want) {
				t.Errorf("%s: the help does not mention %s", path, want)
			}
		})
	}
	for _, c := range commands {
		check(c, c.name)
	}
}

// TestNoKeyMessage: when no source has the key, the error names each
// source once, the keyring by the vault's entry.
func TestNoKeyMessage(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	id := strings.TrimSpace(s.run(0, "status", "--json").stdout)
	if err := os.Rename(s.keyFile(), s.keyFile()+".away"); err != nil {
		t.Fatal(err)
	}
	r := s.run(1, "status")
	var st struct {
		ID string `json:"vault_id"`
	}
	if err := json.Unmarshal([]byte(id), &st); err != nil || st.ID == "" {
		t.Fatalf("status --json: %v: %s", err, id)
	}
	entry := `keyring (service "` + s.service + `", account "` + st.ID + `")`
	if strings.Count(r.stderr, "keyring") != 1 || !strings.Contains(r.stderr, entry+": ") {
		t.Errorf("want one keyring line naming %s:\n%s", entry, r.stderr)
	}
	for _, want := range []string{"AUTHVAULT_KEY not set", "file " + s.keyFile() + ": not found"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}
