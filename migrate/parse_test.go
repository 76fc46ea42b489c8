package migrate

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/records"
)

// foundOpts compare Found values on their exported fields.
var foundOpts = cmp.Options{cmpopts.IgnoreUnexported(Found{}), cmpopts.EquateEmpty()}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func oauthRec(provider, namespace, label string, o records.OAuth, meta map[string]string) *records.Record {
	return &records.Record{Provider: provider, Namespace: namespace, Label: label, Kind: records.KindOAuth, OAuth: &o, Meta: meta}
}

func TestParseFixtures(t *testing.T) {
	codexID := jwtField(t, "codex/auth.json", "id_token")
	codexAccess := jwtField(t, "codex/auth.json", "access_token")
	geminiID := jwtField(t, "gemini-cli/oauth_creds.json", "id_token")
	codexModified := time.Date(2026, 1, 1, 0, 0, 0, 123456000, time.UTC)

	tests := []struct {
		file  string
		parse func(string, []byte) ([]Found, []Problem)
		want  []Found
		// wantProblems are the keys and kinds of the problems expected.
		wantProblems []problemKey
	}{
		{
			file: "claude-code/.credentials.json", parse: parseClaudeCode,
			want: []Found{{Record: oauthRec("anthropic", "default", "claude-code", records.OAuth{
				Access:  "sk-ant-oat01-CANARY-claude-access-4b1d",
				Refresh: "sk-ant-ort01-CANARY-claude-refresh-8e2f",
				Expiry:  ms(1767254400000),
				Scopes:  []string{"user:inference", "user:profile", "user:sessions:claude_code"},
			}, map[string]string{"plan": "max"})}},
		},
		{
			file: "codex/auth.json", parse: parseCodex,
			want: []Found{{Modified: codexModified, Record: oauthRec("openai", "default", "ada@example.com", records.OAuth{
				Access: records.Secret(codexAccess), Refresh: "CANARY-codex-refresh-rt_7Hq2",
				IDToken: records.Secret(codexID), AccountID: "acct-0a1b2c3d",
				Expiry: time.Unix(1767312000, 0).UTC(),
			}, map[string]string{"email": "ada@example.com", "plan": "plus"})}},
		},
		{
			file: "codex/auth-apikey.json", parse: parseCodex,
			want: []Found{{Record: &records.Record{
				Provider: "openai", Namespace: "default", Label: "codex", Kind: records.KindAPI,
				API: &records.APIKey{Key: "sk-proj-CANARY-codex-apikey-9f8e"},
			}}},
		},
		{
			file: "codex/auth-both.json", parse: parseCodex,
			want: []Found{
				{Modified: time.Date(2026, 1, 2, 8, 30, 0, 0, time.UTC), Record: oauthRec("openai", "default", "ada@example.com", records.OAuth{
					Access: records.Secret(codexAccess), Refresh: "CANARY-codex-refresh-both-rt_9",
					IDToken: records.Secret(codexID), AccountID: "acct-0a1b2c3d", // from the id token: account_id is null
					Expiry: time.Unix(1767312000, 0).UTC(),
				}, map[string]string{"email": "ada@example.com", "plan": "plus"})},
				{Modified: time.Date(2026, 1, 2, 8, 30, 0, 0, time.UTC), Record: &records.Record{
					Provider: "openai", Namespace: "default", Label: "ada@example.com-api", Kind: records.KindAPI,
					API: &records.APIKey{Key: "sk-proj-CANARY-codex-apikey-both-5c"}, Meta: map[string]string{"email": "ada@example.com"},
				}},
			},
		},
		{
			file: "gemini-cli/oauth_creds.json", parse: parseGeminiCLI,
			want: []Found{{Record: oauthRec("google", "default", "grace@example.com", records.OAuth{
				Access: "ya29.CANARY-gemini-access-a0B1c2", Refresh: "1//CANARY-gemini-refresh-Zy98",
				IDToken: records.Secret(geminiID), AccountID: "109876543210987654321",
				Expiry: ms(1767229199000),
				Scopes: []string{
					"https://www.googleapis.com/auth/cloud-platform",
					"https://www.googleapis.com/auth/userinfo.email",
					"https://www.googleapis.com/auth/userinfo.profile", "openid",
				},
			}, map[string]string{"email": "grace@example.com"})}},
		},
		{
			file: "qwen-code/oauth_creds.json", parse: parseQwenCode,
			want: []Found{{Record: oauthRec("qwen", "default", "qwen-code", records.OAuth{
				Access: "CANARY-qwen-access-Qx81", Refresh: "CANARY-qwen-refresh-Qr42", Expiry: ms(1767240000000),
			}, map[string]string{"resource_url": "portal.qwen.ai"})}},
		},
		{
			file: "copilot/hosts.json", parse: parseCopilot,
			want: []Found{{Record: oauthRec("copilot", "default", "octocat", records.OAuth{
				Refresh: "gho_CANARYcopilotHostsToken0001", AccountID: "octocat",
			}, nil)}},
		},
		{
			file: "copilot/apps.json", parse: parseCopilot,
			want: []Found{
				{Record: oauthRec("copilot", "default", "hubot", records.OAuth{
					Refresh: "ghu_CANARYcopilotAppsToken0002", AccountID: "hubot", ClientID: "Iv1.b507a08c87ecfe98",
				}, nil)},
				{Record: oauthRec("copilot", "ghe.example.com", "monalisa", records.OAuth{
					Refresh: "ghu_CANARYcopilotGheToken0003", AccountID: "monalisa", ClientID: "Iv1.b507a08c87ecfe98",
				}, nil)},
			},
		},
		{
			file: "opencode/auth.json", parse: parseOpenCode,
			want: []Found{
				{Record: oauthRec("anthropic", "default", "opencode", records.OAuth{
					Refresh: "sk-ant-ort01-CANARY-opencode-anthropic-refresh", Access: "sk-ant-oat01-CANARY-opencode-anthropic-access",
					Expiry: ms(1767250000000),
				}, nil)},
				{Record: oauthRec("openai", "default", "acct-9z8y7x", records.OAuth{
					Refresh: "CANARY-opencode-openai-refresh", Access: "CANARY-opencode-openai-access",
					Expiry: ms(1767260000000), AccountID: "acct-9z8y7x",
				}, nil)},
				{Record: oauthRec("copilot", "default", "opencode", records.OAuth{
					Refresh: "gho_CANARYopencodeCopilotGitHub", Access: "tid=CANARYopencodeCopilotToken;exp=1767230000",
					Expiry: ms(1767230000000),
				}, nil)},
				{Record: oauthRec("copilot", "company.ghe.com", "opencode", records.OAuth{
					Refresh: "ghu_CANARYopencodeCopilotEnterprise",
				}, nil)},
				{Record: &records.Record{
					Provider: "openrouter", Namespace: "default", Label: "opencode", Kind: records.KindAPI,
					API: &records.APIKey{Key: "sk-or-v1-CANARY-opencode-openrouter"}, Meta: map[string]string{"organization": "research"},
				}},
				{Record: &records.Record{
					Provider: "auth.example.com", Namespace: "default", Label: "opencode", Kind: records.KindWellKnown,
					WellKnown: &records.WellKnown{Key: "https://auth.example.com", Token: "CANARY-opencode-wellknown-token"},
					Meta:      map[string]string{"env": "EXAMPLE_API_TOKEN"},
				}},
			},
		},
		{
			file: "opencode/partial.json", parse: parseOpenCode,
			want: []Found{{Record: oauthRec("anthropic", "default", "opencode", records.OAuth{
				Refresh: "sk-ant-ort01-CANARY-partial-anthropic-refresh", Access: "sk-ant-oat01-CANARY-partial-anthropic-access",
				Expiry: ms(1767250000000),
			}, nil)}},
			wantProblems: []problemKey{
				{"openai.refresh", ErrWrongType},
				{"google.refresh", ErrMissing},
				{"mistral.type", ErrUnsupported},
				{`["Not A Provider"]`, ErrUnsupported},
				{"groq", ErrWrongType},
				{"deepseek.metadata.tier", ErrWrongType},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			found, problems := tt.parse(tt.file, fixture(t, tt.file))
			source := strings.Split(tt.file, "/")[0]
			for i := range tt.want {
				tt.want[i].Source, tt.want[i].Path = source, tt.file
			}
			if diff := cmp.Diff(tt.want, found, foundOpts); diff != "" {
				t.Errorf("found (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantProblems, keysOf(problems), cmpopts.EquateErrors(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, f := range found {
				if err := f.Record.Validate(); err != nil {
					t.Errorf("%s: %v", f.Record.ID(), err)
				}
				if f.complete != (len(problems) == 0) {
					t.Errorf("%s: complete = %v with %d problems", f.Record.ID(), f.complete, len(problems))
				}
				if f.file {
					t.Errorf("%s: parsed content marked as a removable file", f.Record.ID())
				}
			}
			for _, p := range problems {
				if p.Source != source || p.Path != tt.file {
					t.Errorf("problem %v names %s %s", p, p.Source, p.Path)
				}
			}
			assertNoSecrets(t, problemTexts(problems)...)
		})
	}
}

// problemKey is what a test expects of a Problem: where, and which kind.
type problemKey struct {
	Key string
	Err error
}

func keysOf(ps []Problem) []problemKey {
	var out []problemKey
	for _, p := range ps {
		out = append(out, problemKey{p.Key, sentinel(p.Err)})
	}
	return out
}

// sentinel returns the package error err matches, or err itself.
func sentinel(err error) error {
	for _, s := range []error{
		ErrTooLarge, ErrNotRegular, ErrInvalidUTF8, ErrSyntax, ErrTooDeep, ErrDuplicateKey,
		ErrWrongType, ErrMissing, ErrInvalidValue, ErrUnsupported, fs.ErrNotExist,
	} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// jwtField reads a JWT out of a fixture, as the test must compare it but
// must not spell it out.
func jwtField(t *testing.T, file, field string) string {
	t.Helper()
	data := string(fixture(t, file))
	i := strings.Index(data, `"`+field+`": "`)
	if i < 0 {
		t.Fatalf("%s has no %s", file, field)
	}
	rest := data[i+len(field)+5:]
	return rest[:strings.IndexByte(rest, '"')]
}
