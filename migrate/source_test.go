package migrate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSourcePaths(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the table's paths are absolute only on Unix")
	}
	home := filepath.FromSlash("/home/ada")
	abs := func(p string) string { return filepath.Join(home, filepath.FromSlash(p)) }
	vars := map[string]string{"CLAUDE_CONFIG_DIR": filepath.FromSlash("/etc/claude")}
	defaults := map[string][]string{
		SourceOpenCode:   {abs(".local/share/opencode/auth.json")},
		SourceClaudeCode: {abs(".claude/.credentials.json")},
		SourceCodex:      {abs(".codex/auth.json")},
		SourceGeminiCLI:  {abs(".gemini/oauth_creds.json")},
		SourceQwenCode:   {abs(".qwen/oauth_creds.json")},
		SourceCopilot:    {abs(".config/github-copilot/apps.json"), abs(".config/github-copilot/hosts.json")},
	}
	tests := []struct {
		name string
		env  Env
		want map[string][]string
	}{
		{
			name: "defaults",
			env:  Env{Home: home},
			want: defaults,
		},
		{
			name: "overrides",
			env: Env{
				Home: home, XDGDataHome: filepath.FromSlash("/data"), XDGConfigHome: filepath.FromSlash("/conf"),
				CodexHome: filepath.FromSlash("/codex"), Getenv: func(k string) string { return vars[k] },
			},
			want: map[string][]string{
				SourceOpenCode:   {filepath.FromSlash("/data/opencode/auth.json")},
				SourceClaudeCode: {filepath.FromSlash("/etc/claude/.credentials.json")},
				SourceCodex:      {filepath.FromSlash("/codex/auth.json")},
				SourceGeminiCLI:  {abs(".gemini/oauth_creds.json")},
				SourceQwenCode:   {abs(".qwen/oauth_creds.json")},
				SourceCopilot:    {filepath.FromSlash("/conf/github-copilot/apps.json"), filepath.FromSlash("/conf/github-copilot/hosts.json")},
			},
		},
		{
			name: "relative XDG values are ignored",
			env:  Env{Home: home, XDGDataHome: "data", XDGConfigHome: "conf", CodexHome: "codex"},
			want: defaults,
		},
		{
			name: "no home",
			env:  Env{CodexHome: filepath.FromSlash("/codex")},
			want: map[string][]string{SourceCodex: {filepath.FromSlash("/codex/auth.json")}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string][]string{}
			for _, s := range Sources() {
				if ps := s.Paths(tt.env); len(ps) > 0 {
					got[s.Name] = ps
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSourceNames(t *testing.T) {
	var names []string
	for _, s := range Sources() {
		names = append(names, s.Name)
		got, ok := SourceByName(s.Name)
		if !ok || got.Name != s.Name || got.Description == "" {
			t.Errorf("SourceByName(%q) = %v, %v", s.Name, got.Name, ok)
		}
	}
	want := []string{"opencode", "claude-code", "codex", "gemini-cli", "qwen-code", "copilot"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, ok := SourceByName("cursor"); ok {
		t.Error("SourceByName(cursor) found a source")
	}
}

func TestOSEnv(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home) // os.UserHomeDir on Windows
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "conf"))
	t.Setenv("CODEX_HOME", filepath.Join(home, "codex"))
	t.Setenv(OpenCodeContentVar, "")
	env := OSEnv()
	want := Env{Home: home, XDGDataHome: filepath.Join(home, "data"), XDGConfigHome: filepath.Join(home, "conf"), CodexHome: filepath.Join(home, "codex")}
	if diff := cmp.Diff(want, env, cmpopts.IgnoreFields(Env{}, "Getenv")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	t.Setenv("CLAUDE_CONFIG_DIR", "x")
	if env.Getenv == nil || env.Getenv("CLAUDE_CONFIG_DIR") != "x" {
		t.Error("Getenv does not read the process environment")
	}
}

func TestDiscover(t *testing.T) {
	env, paths := homeWithAll(t)
	found, problems := Discover(env)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	type where struct{ Source, Path, ID string }
	var got []where
	for _, f := range found {
		got = append(got, where{f.Source, f.Path, f.Record.ID().String()})
		if !f.file || !f.complete {
			t.Errorf("%s: file=%v complete=%v, want both", f.Record.ID(), f.file, f.complete)
		}
		if f.Modified.IsZero() {
			t.Errorf("%s: no modification time", f.Record.ID())
		}
	}
	want := []where{
		{"opencode", paths["opencode"], "anthropic/default/opencode"},
		{"opencode", paths["opencode"], "openai/default/acct-9z8y7x"},
		{"opencode", paths["opencode"], "copilot/default/opencode"},
		{"opencode", paths["opencode"], "copilot/company.ghe.com/opencode"},
		{"opencode", paths["opencode"], "openrouter/default/opencode"},
		{"opencode", paths["opencode"], "auth.example.com/default/opencode"},
		{"claude-code", paths["claude-code"], "anthropic/default/claude-code"},
		{"codex", paths["codex"], "openai/default/ada@example.com"},
		{"gemini-cli", paths["gemini-cli"], "google/default/grace@example.com"},
		{"qwen-code", paths["qwen-code"], "qwen/default/qwen-code"},
		{"copilot", paths["copilot-apps"], "copilot/default/hubot"},
		{"copilot", paths["copilot-apps"], "copilot/ghe.example.com/monalisa"},
		{"copilot", paths["copilot-hosts"], "copilot/default/octocat"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Codex records its own refresh time; the others take the file's.
	for _, f := range found {
		wantMod := fileTime
		if f.Source == SourceCodex {
			wantMod = time.Date(2026, 1, 1, 0, 0, 0, 123456000, time.UTC)
		}
		if !f.Modified.Equal(wantMod) {
			t.Errorf("%s: Modified = %v, want %v", f.Record.ID(), f.Modified, wantMod)
		}
	}
}

func TestDiscoverMissingAndEmpty(t *testing.T) {
	if found, problems := Discover(Env{Home: t.TempDir()}); len(found) != 0 || len(problems) != 0 {
		t.Errorf("empty home: found %d, problems %v", len(found), problems)
	}
	if found, problems := Discover(Env{}); len(found) != 0 || len(problems) != 0 {
		t.Errorf("no home: found %d, problems %v", len(found), problems)
	}
}

func TestDiscoverOpenCodeContent(t *testing.T) {
	env, _ := homeWithAll(t)
	content := `{"anthropic": {"type": "api", "key": "sk-ant-api03-CANARY-content"}}`
	env.Getenv = func(k string) string {
		if k == OpenCodeContentVar {
			return content
		}
		return ""
	}
	s, _ := SourceByName(SourceOpenCode)
	found, problems := s.discover(env)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	if len(found) != 1 || found[0].Path != "$OPENCODE_AUTH_CONTENT" || found[0].Record.ID().String() != "anthropic/default/opencode" {
		t.Fatalf("found %+v, want only the variable's entry", found)
	}
	if found[0].file {
		t.Error("variable content marked as a removable file")
	}
}

func TestDiscoverReportsBadFiles(t *testing.T) {
	home := t.TempDir()
	writeFile(t, home, ".codex/auth.json", []byte(`{"tokens": {"refresh_token": 1}}`))
	writeFile(t, home, ".qwen/oauth_creds.json", fixture(t, "qwen-code/oauth_creds.json"))
	if err := os.MkdirAll(filepath.Join(home, ".gemini", "oauth_creds.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	found, problems := Discover(Env{Home: home})
	if len(found) != 1 || found[0].Source != SourceQwenCode {
		t.Errorf("found %v, want the qwen record only", found)
	}
	got := keysOf(problems)
	want := []problemKey{
		{"tokens.id_token", ErrMissing}, {"tokens.access_token", ErrMissing}, {"tokens.refresh_token", ErrWrongType},
		{"", ErrNotRegular},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadFileLimits(t *testing.T) {
	dir := t.TempDir()
	exact := append([]byte(`{"access_token": "CANARY-a", "refresh_token": "CANARY-r"}`), []byte(strings.Repeat(" ", MaxFileSize))...)[:MaxFileSize]
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  error // nil: parses
	}{
		{"exactly the cap", func(t *testing.T) string { return writeFile(t, dir, "exact.json", exact) }, nil},
		{"one byte over", func(t *testing.T) string { return writeFile(t, dir, "over.json", append(exact, ' ')) }, ErrTooLarge},
		{"invalid UTF-8", func(t *testing.T) string {
			return writeFile(t, dir, "utf8.json", []byte("{\"access_token\": \"CANARY-\xc3\x28\"}"))
		}, ErrInvalidUTF8},
		{"nesting bomb", func(t *testing.T) string {
			return writeFile(t, dir, "bomb.json", []byte(strings.Repeat("[", MaxFileSize)))
		}, ErrTooDeep},
		{"directory", func(t *testing.T) string { return t.TempDir() }, ErrNotRegular},
		{"missing", func(t *testing.T) string { return filepath.Join(dir, "nope.json") }, fs.ErrNotExist},
		{"symlink to /dev/zero", func(t *testing.T) string {
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip("no /dev/zero")
			}
			p := filepath.Join(dir, "zero.json")
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Skip(err)
			}
			return p
		}, ErrTooLarge},
	}
	s, _ := SourceByName(SourceQwenCode)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.setup(t)
			found, problems := s.ReadFile(p)
			if tt.want == nil {
				if len(problems) != 0 || len(found) != 1 {
					t.Fatalf("found %d, problems %v", len(found), problems)
				}
				return
			}
			if len(problems) != 1 || !errors.Is(problems[0].Err, tt.want) || problems[0].Path != p {
				t.Fatalf("problems = %v, want one %v for %s", problems, tt.want, p)
			}
			assertNoSecrets(t, problems[0].Error())
		})
	}
}
