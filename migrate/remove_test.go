package migrate

import (
	"context"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/records"
)

func TestRemoveSources(t *testing.T) {
	all := []string{"claude-code", "codex", "copilot-apps", "copilot-hosts", "gemini-cli", "opencode", "qwen-code"}
	without := func(names ...string) []string {
		var out []string
		for _, n := range all {
			if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+n+" ") {
				out = append(out, n)
			}
		}
		return out
	}
	tests := []struct {
		name string
		// prepare runs after the fixtures are laid out; it returns the
		// vault's records.
		prepare func(t *testing.T, env *Env, paths map[string]string) []*records.Record
		// afterPlan runs between Apply and RemoveSources.
		afterPlan   func(t *testing.T, paths map[string]string)
		wantRemoved []string
		wantKept    []string // files named in the error
	}{
		{
			name:        "every file imported",
			wantRemoved: all,
		},
		{
			name: "a file with a bad entry is kept",
			prepare: func(t *testing.T, env *Env, paths map[string]string) []*records.Record {
				writeFile(t, env.Home, ".local/share/opencode/auth.json", fixture(t, "opencode/partial.json"))
				return nil
			},
			wantRemoved: without("opencode"),
			wantKept:    []string{"opencode"},
		},
		{
			name: "a file with a skipped entry is kept",
			prepare: func(t *testing.T, env *Env, paths map[string]string) []*records.Record {
				return []*records.Record{{
					Provider: "anthropic", Namespace: "default", Label: "claude-code",
					Kind: records.KindAPI, API: &records.APIKey{Key: "CANARY-k"},
				}}
			},
			wantRemoved: without("claude-code"),
			wantKept:    []string{"claude-code"},
		},
		{
			name: "a file that changed after it was read is kept",
			afterPlan: func(t *testing.T, paths map[string]string) {
				if err := os.WriteFile(paths["codex"], []byte(`{"OPENAI_API_KEY": "sk-CANARY-rotated"}`), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantRemoved: without("codex"),
			wantKept:    []string{"codex"},
		},
		{
			name: "a file that vanished is reported",
			afterPlan: func(t *testing.T, paths map[string]string) {
				if err := os.Remove(paths["qwen-code"]); err != nil {
					t.Fatal(err)
				}
			},
			wantRemoved: without("qwen-code"),
			wantKept:    []string{"qwen-code"},
		},
		{
			name: "OPENCODE_AUTH_CONTENT leaves the file alone",
			prepare: func(t *testing.T, env *Env, paths map[string]string) []*records.Record {
				env.Getenv = func(k string) string {
					if k == OpenCodeContentVar {
						return `{"mistral": {"type": "api", "key": "CANARY-mistral"}}`
					}
					return ""
				}
				return nil
			},
			wantRemoved: without("opencode"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, paths := homeWithAll(t)
			var existing []*records.Record
			if tt.prepare != nil {
				existing = tt.prepare(t, &env, paths)
			}
			target := newMemTarget(existing...)
			recs, _ := target.Records(context.Background(), "")
			found, _ := Discover(env)
			plan, err := newPlan(recs, found, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := apply(context.Background(), target, plan); err != nil {
				t.Fatal(err)
			}
			if tt.afterPlan != nil {
				tt.afterPlan(t, paths)
			}
			removed, err := RemoveSources(plan)

			byPath := map[string]string{}
			for name, p := range paths {
				byPath[p] = name
			}
			var gotRemoved []string
			for _, p := range removed {
				gotRemoved = append(gotRemoved, byPath[p])
				if _, serr := os.Stat(p); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("%s reported removed but still there", p)
				}
			}
			sort.Strings(gotRemoved)
			if diff := cmp.Diff(tt.wantRemoved, gotRemoved, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			var gotKept []string
			if err != nil {
				for _, line := range strings.Split(err.Error(), "\n") {
					for p, name := range byPath {
						if strings.Contains(line, p+":") {
							gotKept = append(gotKept, name)
						}
					}
				}
				assertNoSecrets(t, err.Error())
			}
			if diff := cmp.Diff(tt.wantKept, gotKept, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("kept (-want +got):\n%s (error: %v)", diff, err)
			}
			for _, name := range tt.wantKept {
				if name == "qwen-code" {
					continue // removed by the test itself
				}
				if _, serr := os.Stat(paths[name]); serr != nil {
					t.Errorf("kept file %s: %v", name, serr)
				}
			}
		})
	}
}

func TestRemoveSourcesNeedsApply(t *testing.T) {
	env, paths := homeWithAll(t)
	found, _ := Discover(env)
	plan, err := newPlan(nil, found, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Plan{nil, plan} {
		if removed, err := RemoveSources(p); !errors.Is(err, ErrNotApplied) || removed != nil {
			t.Errorf("RemoveSources = %v, %v; want ErrNotApplied", removed, err)
		}
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

// Parsed content (not read from a file by this package) is never removed,
// even when its Path names a real file.
func TestRemoveSourcesOnlyReadFiles(t *testing.T) {
	_, paths := homeWithAll(t)
	found, _ := parseCodex(paths["codex"], fixture(t, "codex/auth.json"))
	plan, err := newPlan(nil, found, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(context.Background(), newMemTarget(), plan); err != nil {
		t.Fatal(err)
	}
	removed, err := RemoveSources(plan)
	if err != nil || len(removed) != 0 {
		t.Errorf("RemoveSources = %v, %v; want nothing removed", removed, err)
	}
	if _, err := os.Stat(paths["codex"]); err != nil {
		t.Error(err)
	}
}
