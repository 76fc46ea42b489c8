package migrate

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
)

func ids(rs []*records.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID().String())
	}
	return out
}

// migrateOnce runs Discover, NewPlan and Apply against target.
func migrateOnce(t *testing.T, env Env, target store) *Plan {
	t.Helper()
	ctx := context.Background()
	found, problems := Discover(env)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	existing, err := target.Records(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := newPlan(existing, found, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(ctx, target, plan); err != nil {
		t.Fatal(err)
	}
	return plan
}

var allIDs = []string{
	"anthropic/default/claude-code",
	"anthropic/default/opencode",
	"auth.example.com/default/opencode",
	"copilot/company.ghe.com/opencode",
	"copilot/default/hubot",
	"copilot/default/octocat",
	"copilot/default/opencode",
	"copilot/ghe.example.com/monalisa",
	"google/default/grace@example.com",
	"openai/default/acct-9z8y7x",
	"openai/default/ada@example.com",
	"openrouter/default/opencode",
	"qwen/default/qwen-code",
}

func TestApplyIsOneCommitAndIdempotent(t *testing.T) {
	env, _ := homeWithAll(t)
	target := newMemTarget()

	first := migrateOnce(t, env, target)
	if len(first.Add) != len(allIDs) || len(first.Update)+len(first.Unchanged)+len(first.Skipped) != 0 {
		t.Fatalf("first plan: %v", rows(first))
	}
	if target.commits != 1 {
		t.Errorf("first run: %d commits, want 1", target.commits)
	}
	if diff := cmp.Diff(allIDs, ids(target.all())); diff != "" {
		t.Errorf("vault (-want +got):\n%s", diff)
	}
	snapshot := target.all()

	second := migrateOnce(t, env, target)
	if len(second.Add)+len(second.Update)+len(second.Skipped) != 0 || len(second.Unchanged) != len(allIDs) {
		t.Errorf("second plan: %v", rows(second))
	}
	if target.commits != 1 {
		t.Errorf("second run committed: %d commits", target.commits)
	}
	if diff := cmp.Diff(snapshot, target.all()); diff != "" {
		t.Errorf("second run changed the vault:\n%s", diff)
	}
}

func TestApplyUpdatesWhenSourceIsNewer(t *testing.T) {
	env, _ := homeWithAll(t)
	target := newMemTarget()
	migrateOnce(t, env, target)

	// Claude Code refreshed: new tokens, later expiry.
	writeFile(t, env.Home, ".claude/.credentials.json", []byte(`{"claudeAiOauth": {
		"accessToken": "sk-ant-oat01-CANARY-claude-access-next", "refreshToken": "sk-ant-ort01-CANARY-claude-refresh-next",
		"expiresAt": 1767300000000, "scopes": ["user:inference"], "subscriptionType": "max"}}`))
	plan := migrateOnce(t, env, target)
	if diff := cmp.Diff([]planRow{{"update", "claude-code", "anthropic/default/claude-code", ReasonNewer}}, rows(plan)[:1]); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if len(plan.Update) != 1 || len(plan.Add) != 0 || len(plan.Unchanged) != len(allIDs)-1 {
		t.Fatalf("plan: %v", rows(plan))
	}
	got, _ := target.Records(context.Background(), "anthropic")
	if got[0].OAuth.Refresh != "sk-ant-ort01-CANARY-claude-refresh-next" || !got[0].OAuth.Expiry.Equal(ms(1767300000000)) {
		t.Errorf("vault record not updated: expiry %v", got[0].OAuth.Expiry)
	}
	if target.commits != 2 {
		t.Errorf("%d commits, want 2", target.commits)
	}
}

func TestApplyConflict(t *testing.T) {
	claude := oauth("anthropic", "claude-code", "CANARY-a1", "CANARY-r1", t2)
	tests := []struct {
		name     string
		existing []*records.Record
		change   func(m *memTarget)
	}{
		{
			name:   "account to add appeared",
			change: func(m *memTarget) { m.put(oauth("anthropic", "claude-code", "CANARY-x", "CANARY-y", t0)) },
		},
		{
			name:     "record to update changed",
			existing: []*records.Record{oauth("anthropic", "claude-code", "CANARY-a0", "CANARY-r0", t0)},
			change:   func(m *memTarget) { m.put(oauth("anthropic", "claude-code", "CANARY-a5", "CANARY-r5", t1)) },
		},
		{
			name:     "record counted on was removed",
			existing: []*records.Record{claude, oauth("google", "g", "CANARY-g", "CANARY-gr", t0)},
			change: func(m *memTarget) {
				delete(m.recs, claude.ID())
				m.put(oauth("qwen", "q", "CANARY-q", "CANARY-qr", t0))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newMemTarget(tt.existing...)
			existing, _ := target.Records(context.Background(), "")
			found := []Found{
				fnd("claude-code", claude, t1),
				fnd("qwen-code", oauth("qwen", "qwen-code", "CANARY-qa", "CANARY-qb", t0), t0),
			}
			plan, err := newPlan(existing, found, Options{})
			if err != nil {
				t.Fatal(err)
			}
			target.beforeCommit = tt.change
			before := target.commits
			err = apply(context.Background(), target, plan)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("Apply = %v, want ErrConflict", err)
			}
			assertNoSecrets(t, err.Error())
			if target.commits != before {
				t.Error("a conflicting plan was committed")
			}
			if _, err := RemoveSources(plan); !errors.Is(err, ErrNotApplied) {
				t.Errorf("RemoveSources after a failed Apply = %v", err)
			}
		})
	}
}

// A plan with nothing to write checks the vault without committing.
func TestApplyNothingToWrite(t *testing.T) {
	claude := oauth("anthropic", "claude-code", "CANARY-a1", "CANARY-r1", t2)
	target := newMemTarget(claude)
	existing, _ := target.Records(context.Background(), "")
	plan, err := newPlan(existing, []Found{fnd("claude-code", claude, t0)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(context.Background(), target, plan); err != nil {
		t.Fatal(err)
	}
	if target.commits != 0 {
		t.Errorf("%d commits, want none", target.commits)
	}
	delete(target.recs, claude.ID())
	if err := apply(context.Background(), target, plan); !errors.Is(err, ErrConflict) {
		t.Errorf("Apply after the record vanished = %v, want ErrConflict", err)
	}
}

func TestApplyCommitFailureLeavesEverything(t *testing.T) {
	env, paths := homeWithAll(t)
	contents := readAll(t, paths)
	target := newMemTarget()
	target.failCommit = errCommit
	ctx := context.Background()
	found, _ := Discover(env)
	plan, err := newPlan(nil, found, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(ctx, target, plan); !errors.Is(err, errCommit) {
		t.Fatalf("Apply = %v, want the commit error", err)
	}
	if len(target.recs) != 0 {
		t.Errorf("vault holds %d records after a failed commit", len(target.recs))
	}
	removed, err := RemoveSources(plan)
	if !errors.Is(err, ErrNotApplied) || len(removed) != 0 {
		t.Errorf("RemoveSources = %v, %v; want ErrNotApplied", removed, err)
	}
	if diff := cmp.Diff(contents, readAll(t, paths)); diff != "" {
		t.Errorf("sources changed:\n%s", diff)
	}
}

// A dry run is NewPlan without Apply: the vault and the sources stay as
// they were.
func TestDryRunChangesNothing(t *testing.T) {
	env, paths := homeWithAll(t)
	contents := readAll(t, paths)
	stats := statAll(t, paths)
	existing := oauth("anthropic", "claude-code", "CANARY-a0", "CANARY-r0", t0)
	target := newMemTarget(existing)
	snapshot := target.all()

	found, _ := Discover(env)
	recs, _ := target.Records(context.Background(), "")
	plan, err := newPlan(recs, found, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Add) == 0 || len(plan.Update) == 0 {
		t.Fatalf("the dry run has nothing to show: %v", rows(plan))
	}
	if target.commits != 0 {
		t.Error("planning committed")
	}
	if diff := cmp.Diff(snapshot, target.all()); diff != "" {
		t.Errorf("vault changed:\n%s", diff)
	}
	if diff := cmp.Diff(contents, readAll(t, paths)); diff != "" {
		t.Errorf("sources changed:\n%s", diff)
	}
	if diff := cmp.Diff(stats, statAll(t, paths)); diff != "" {
		t.Errorf("source metadata changed:\n%s", diff)
	}
}

func readAll(t *testing.T, paths map[string]string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for k, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = data
	}
	return out
}

type stat struct {
	Mode    os.FileMode
	ModTime string
}

func statAll(t *testing.T, paths map[string]string) map[string]stat {
	t.Helper()
	out := map[string]stat{}
	for k, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = stat{fi.Mode(), fi.ModTime().String()}
	}
	return out
}
