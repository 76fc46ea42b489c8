package migrate

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/records"
)

var (
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t0.Add(2 * time.Hour)
)

func fnd(source string, r *records.Record, modified time.Time) Found {
	return Found{Record: r, Source: source, Path: source + ".json", Modified: modified}
}

func oauth(provider, label, access, refresh string, expiry time.Time) *records.Record {
	return oauthRec(provider, "default", label, records.OAuth{Access: records.Secret(access), Refresh: records.Secret(refresh), Expiry: expiry}, nil)
}

// stored is r as the vault holds it.
func stored(r *records.Record, gen uint64, updated time.Time) *records.Record {
	c := r.Clone()
	c.Generation, c.Created, c.Updated = gen, t0, updated
	return c
}

func with(r *records.Record, f func(r *records.Record)) *records.Record {
	c := r.Clone()
	f(c)
	return c
}

// planRow is one Change, summarized.
type planRow struct {
	List, Source, ID, Reason string
}

func rows(p *Plan) []planRow {
	var out []planRow
	for _, l := range []struct {
		name    string
		changes []Change
	}{{"add", p.Add}, {"update", p.Update}, {"unchanged", p.Unchanged}, {"skipped", p.Skipped}} {
		for _, c := range l.changes {
			id := ""
			if c.Record != nil {
				id = c.Record.ID().String()
			}
			out = append(out, planRow{l.name, c.Found.Source, id, c.Reason})
		}
	}
	return out
}

func TestNewPlan(t *testing.T) {
	claude := oauth("anthropic", "claude-code", "CANARY-a1", "CANARY-r1", t1)
	codex := oauthRec("openai", "default", "ada@example.com", records.OAuth{
		Access: "CANARY-oa", Refresh: "CANARY-or", AccountID: "acct-1", Expiry: t1,
	}, map[string]string{"email": "ada@example.com"})
	copilot := oauthRec("copilot", "default", "octocat", records.OAuth{Refresh: "gho_CANARY", AccountID: "octocat"}, nil)

	tests := []struct {
		name     string
		existing []*records.Record
		found    []Found
		opts     Options
		want     []planRow
	}{
		{
			name:  "empty vault adds all",
			found: []Found{fnd("claude-code", claude, t0), fnd("codex", codex, t0)},
			want: []planRow{
				{"add", "claude-code", "anthropic/default/claude-code", ReasonNew},
				{"add", "codex", "openai/default/ada@example.com", ReasonNew},
			},
		},
		{
			name:     "identical is unchanged",
			existing: []*records.Record{stored(claude, 1, t0), stored(codex, 2, t0)},
			found:    []Found{fnd("claude-code", claude, t2), fnd("codex", codex, t2)},
			want: []planRow{
				{"unchanged", "claude-code", "anthropic/default/claude-code", ReasonSame},
				{"unchanged", "codex", "openai/default/ada@example.com", ReasonSame},
			},
		},
		{
			name:     "later expiry updates",
			existing: []*records.Record{stored(oauth("anthropic", "claude-code", "CANARY-old-a", "CANARY-old-r", t0), 1, t2)},
			found:    []Found{fnd("claude-code", claude, t0)},
			want:     []planRow{{"update", "claude-code", "anthropic/default/claude-code", ReasonNewer}},
		},
		{
			name:     "earlier expiry leaves the vault's",
			existing: []*records.Record{stored(oauth("anthropic", "claude-code", "CANARY-new-a", "CANARY-new-r", t2), 1, t0)},
			found:    []Found{fnd("claude-code", claude, t2)},
			want:     []planRow{{"unchanged", "claude-code", "anthropic/default/claude-code", ReasonVaultNewer}},
		},
		{
			name:     "matched by refresh token under another id",
			existing: []*records.Record{stored(with(oauth("anthropic", "mine", "CANARY-a0", "CANARY-r1", t0), func(r *records.Record) { r.Namespace = "work" }), 1, t0)},
			found:    []Found{fnd("claude-code", claude, t0)},
			want:     []planRow{{"update", "claude-code", "anthropic/work/mine", ReasonNewer}},
		},
		{
			name: "matched by account id",
			existing: []*records.Record{stored(oauthRec("openai", "default", "old-label", records.OAuth{
				Access: "CANARY-x", Refresh: "CANARY-y", AccountID: "acct-1", Expiry: t0,
			}, nil), 1, t0)},
			found: []Found{fnd("codex", codex, t0)},
			want:  []planRow{{"update", "codex", "openai/default/old-label", ReasonNewer}},
		},
		{
			name:     "no expiry: a later change updates",
			existing: []*records.Record{stored(with(copilot, func(r *records.Record) { r.OAuth.Refresh = "gho_CANARY_old" }), 1, t0)},
			found:    []Found{fnd("copilot", copilot, t1)},
			want:     []planRow{{"update", "copilot", "copilot/default/octocat", ReasonNewer}},
		},
		{
			name:     "no expiry: an earlier change does not",
			existing: []*records.Record{stored(with(copilot, func(r *records.Record) { r.OAuth.Refresh = "gho_CANARY_new" }), 1, t2)},
			found:    []Found{fnd("copilot", copilot, t1)},
			want:     []planRow{{"unchanged", "copilot", "copilot/default/octocat", ReasonVaultNewer}},
		},
		{
			name:     "no expiry and no time: the vault's stays",
			existing: []*records.Record{stored(with(copilot, func(r *records.Record) { r.OAuth.Refresh = "gho_CANARY_other" }), 1, t0)},
			found:    []Found{fnd("copilot", copilot, time.Time{})},
			want:     []planRow{{"unchanged", "copilot", "copilot/default/octocat", ReasonVaultNewer}},
		},
		{
			name: "a GitHub token keeps the Copilot token it was exchanged for",
			existing: []*records.Record{stored(with(copilot, func(r *records.Record) {
				r.OAuth.Access, r.OAuth.Expiry = "tid=CANARY", t2
			}), 1, t0)},
			found: []Found{fnd("copilot", copilot, t1)},
			want:  []planRow{{"unchanged", "copilot", "copilot/default/octocat", ReasonSame}},
		},
		{
			name:     "new metadata only",
			existing: []*records.Record{stored(with(codex, func(r *records.Record) { r.Meta = nil }), 1, t0)},
			found:    []Found{fnd("codex", codex, t0)},
			want:     []planRow{{"update", "codex", "openai/default/ada@example.com", ReasonMeta}},
		},
		{
			name: "id taken by another kind",
			existing: []*records.Record{stored(&records.Record{
				Provider: "anthropic", Namespace: "default", Label: "claude-code", Kind: records.KindAPI,
				API: &records.APIKey{Key: "CANARY-k"},
			}, 1, t0)},
			found: []Found{fnd("claude-code", claude, t0)},
			want:  []planRow{{"skipped", "claude-code", "anthropic/default/claude-code", ReasonKindConflict}},
		},
		{
			name: "one credential in two sources is imported once, the newest",
			found: []Found{
				fnd("opencode", oauth("anthropic", "opencode", "CANARY-a0", "CANARY-r1", t0), t0),
				fnd("claude-code", claude, t0),
			},
			want: []planRow{
				{"add", "claude-code", "anthropic/default/claude-code", ReasonNew},
				{"unchanged", "opencode", "anthropic/default/claude-code", "same account as claude-code claude-code.json"},
			},
		},
		{
			name: "one account in two sources takes the best label",
			found: []Found{
				fnd("codex", codex, t0),
				fnd("opencode", oauthRec("openai", "default", "acct-1", records.OAuth{
					Access: "CANARY-oc", Refresh: "CANARY-ocr", AccountID: "acct-1", Expiry: t2,
				}, nil), t0),
			},
			want: []planRow{
				{"add", "opencode", "openai/default/ada@example.com", ReasonNew},
				{"unchanged", "codex", "openai/default/ada@example.com", "same account as opencode opencode.json"},
			},
		},
		{
			name: "a label given to two accounts keeps the newer",
			found: []Found{
				fnd("opencode", oauth("anthropic", "opencode", "CANARY-a9", "CANARY-r9", t2), t0),
				fnd("claude-code", claude, t0),
			},
			opts: Options{Label: "me"},
			want: []planRow{
				{"add", "opencode", "anthropic/default/me", ReasonNew},
				{"skipped", "claude-code", "anthropic/default/me", ReasonDuplicateID},
			},
		},
		{
			name:  "the later of two accounts for one id wins, whatever the order",
			found: []Found{fnd("claude-code", claude, t0), fnd("opencode", oauth("anthropic", "opencode", "CANARY-a9", "CANARY-r9", t2), t0)},
			opts:  Options{Label: "me"},
			want: []planRow{
				{"add", "opencode", "anthropic/default/me", ReasonNew},
				{"skipped", "claude-code", "anthropic/default/me", ReasonDuplicateID},
			},
		},
		{
			name: "keys and well-known tokens are matched by value",
			existing: []*records.Record{
				stored(&records.Record{Provider: "openrouter", Namespace: "default", Label: "mine", Kind: records.KindAPI,
					API: &records.APIKey{Key: "CANARY-k"}, Meta: map[string]string{"organization": "research"}}, 1, t0),
				stored(&records.Record{Provider: "auth.example.com", Namespace: "default", Label: "wk", Kind: records.KindWellKnown,
					WellKnown: &records.WellKnown{Key: "https://auth.example.com", Token: "CANARY-wk"}}, 2, t0),
			},
			found: []Found{
				fnd("opencode", &records.Record{Provider: "openrouter", Namespace: "default", Label: "opencode", Kind: records.KindAPI,
					API: &records.APIKey{Key: "CANARY-k"}}, t1),
				fnd("opencode", &records.Record{Provider: "auth.example.com", Namespace: "default", Label: "opencode", Kind: records.KindWellKnown,
					WellKnown: &records.WellKnown{Key: "https://auth.example.com", Token: "CANARY-wk"}, Meta: map[string]string{"env": "E"}}, t1),
			},
			want: []planRow{
				{"update", "opencode", "auth.example.com/default/wk", ReasonMeta},
				{"unchanged", "opencode", "openrouter/default/mine", ReasonSame},
			},
		},
		{
			name:     "a new key for an api account updates it when newer",
			existing: []*records.Record{stored(&records.Record{Provider: "openrouter", Namespace: "default", Label: "opencode", Kind: records.KindAPI, API: &records.APIKey{Key: "CANARY-old"}}, 1, t0)},
			found:    []Found{fnd("opencode", &records.Record{Provider: "openrouter", Namespace: "default", Label: "opencode", Kind: records.KindAPI, API: &records.APIKey{Key: "CANARY-new"}}, t1)},
			want:     []planRow{{"update", "opencode", "openrouter/default/opencode", ReasonNewer}},
		},
		{
			name:  "namespace override",
			found: []Found{fnd("claude-code", claude, t0)},
			opts:  Options{Namespace: "work"},
			want:  []planRow{{"add", "claude-code", "anthropic/work/claude-code", ReasonNew}},
		},
		{
			name: "invalid records are skipped",
			found: []Found{
				{Source: "x"},
				fnd("claude-code", with(claude, func(r *records.Record) { r.Label = "a/b" }), t0),
			},
			want: []planRow{
				{"skipped", "x", "", ReasonInvalid},
				{"skipped", "claude-code", "anthropic/default/a/b", ReasonInvalid + `: invalid record id: label "a/b" holds '/', '\' or a control character`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneAll(tt.existing)
			foundBefore := cloneFound(tt.found)
			p, err := newPlan(tt.existing, tt.found, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rows(p), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.existing); diff != "" {
				t.Errorf("existing records modified:\n%s", diff)
			}
			if diff := cmp.Diff(foundBefore, tt.found, foundOpts); diff != "" {
				t.Errorf("found records modified:\n%s", diff)
			}
			for _, c := range append(p.Add, p.Update...) {
				if err := c.Record.Validate(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func cloneAll(rs []*records.Record) []*records.Record {
	var out []*records.Record
	for _, r := range rs {
		out = append(out, r.Clone())
	}
	return out
}

func cloneFound(fs []Found) []Found {
	out := append([]Found(nil), fs...)
	for i := range out {
		out[i].Record = out[i].Record.Clone()
	}
	return out
}

// An update writes the found credential into the matched record: its ID,
// creation time, generation and the fields the source does not carry stay.
func TestNewPlanUpdateMerges(t *testing.T) {
	base := stored(oauthRec("anthropic", "work", "mine", records.OAuth{
		Access: "CANARY-a0", Refresh: "CANARY-r1", Expiry: t0, IDToken: "CANARY-id",
		Scopes: []string{"user:inference"}, ClientID: "client-1", TokenURL: "https://token.example",
	}, map[string]string{"plan": "pro", "note": "kept"}), 7, t0)
	found := fnd("claude-code", oauthRec("anthropic", "default", "claude-code", records.OAuth{
		Access: "CANARY-a1", Refresh: "CANARY-r1", Expiry: t1,
	}, map[string]string{"plan": "max"}), t1)
	p, err := newPlan([]*records.Record{base}, []Found{found}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Update) != 1 {
		t.Fatalf("plan: %+v", rows(p))
	}
	want := oauthRec("anthropic", "work", "mine", records.OAuth{
		Access: "CANARY-a1", Refresh: "CANARY-r1", Expiry: t1, IDToken: "CANARY-id",
		Scopes: []string{"user:inference"}, ClientID: "client-1", TokenURL: "https://token.example",
	}, map[string]string{"plan": "max", "note": "kept"})
	want.Generation, want.Created, want.Updated = 7, t0, t0
	if diff := cmp.Diff(want, p.Update[0].Record); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(base, p.Update[0].Base); diff != "" {
		t.Errorf("base (-want +got):\n%s", diff)
	}
}

func TestNewPlanOptionsErrors(t *testing.T) {
	for _, opts := range []Options{{Namespace: "a/b"}, {Label: "x\n"}, {Label: ".."}} {
		if _, err := newPlan(nil, nil, opts); !errors.Is(err, records.ErrInvalidID) {
			t.Errorf("newPlan(%+v) = %v, want ErrInvalidID", opts, err)
		}
	}
}
