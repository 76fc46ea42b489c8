package migrate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string, []byte) ([]Found, []Problem)
		doc   string
		want  []problemKey
		// wantFound is how many credentials still come out.
		wantFound int
	}{
		// Whole-document failures, the same for every parser.
		{name: "empty", parse: parseCodex, doc: "", want: []problemKey{{"", ErrSyntax}}},
		{name: "syntax", parse: parseCodex, doc: `{"tokens": {"refresh_token": "CANARY-x`, want: []problemKey{{"", ErrSyntax}}},
		{name: "syntax bad char", parse: parseClaudeCode, doc: `{"claudeAiOauth": CANARY}`, want: []problemKey{{"", ErrSyntax}}},
		{name: "trailing data", parse: parseQwenCode, doc: `{} {"access_token": "CANARY-q"}`, want: []problemKey{{"", ErrSyntax}}},
		{name: "not an object", parse: parseOpenCode, doc: `["CANARY-array"]`, want: []problemKey{{"", ErrWrongType}}},
		{name: "invalid UTF-8", parse: parseGeminiCLI, doc: "{\"access_token\": \"CANARY-\xff\"}", want: []problemKey{{"", ErrInvalidUTF8}}},
		// Of duplicate members the last counts, as in the JavaScript that
		// writes these files.
		{name: "duplicate key", parse: parseCodex, doc: `{"tokens": {"refresh_token": 7, "refresh_token": "CANARY-b", "id_token": "a.e30.CANARY", "access_token": "CANARY-a"}}`, wantFound: 1},
		{name: "duplicate key last is bad", parse: parseCodex, doc: `{"tokens": {"refresh_token": "CANARY-b", "refresh_token": 7, "id_token": "a.e30.CANARY", "access_token": "CANARY-a"}}`,
			want: []problemKey{{"tokens.refresh_token", ErrWrongType}}},
		{name: "unknown fields", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "rateLimitTier": {"x": [1, 2]}, "isMax": true}, "mcpOAuth": {}}`, wantFound: 1},
		{name: "nesting bomb", parse: parseCopilot, doc: `{"github.com": ` + strings.Repeat("[", 100000), want: []problemKey{{"", ErrTooDeep}}},
		{name: "nesting bomb in object", parse: parseCopilot, doc: strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20), want: []problemKey{{"", ErrTooDeep}}},
		{name: "nesting at the limit", parse: parseCopilot, doc: `{"github.com": {"oauth_token": "CANARY-t", "x": ` + strings.Repeat("[", 14) + strings.Repeat("]", 14) + `}}`, wantFound: 1},
		{name: "too large", parse: parseOpenCode, doc: "{}" + strings.Repeat(" ", MaxFileSize), want: []problemKey{{"", ErrTooLarge}}},

		// Codex.
		{name: "codex refresh wrong type", parse: parseCodex, doc: `{"tokens": {"id_token": "a.e30.CANARY", "access_token": "CANARY-a", "refresh_token": 7}}`,
			want: []problemKey{{"tokens.refresh_token", ErrWrongType}}},
		{name: "codex missing fields", parse: parseCodex, doc: `{"tokens": {"refresh_token": "CANARY-r"}}`,
			want: []problemKey{{"tokens.id_token", ErrMissing}, {"tokens.access_token", ErrMissing}}},
		{name: "codex tokens wrong type", parse: parseCodex, doc: `{"tokens": ["CANARY-t"]}`, want: []problemKey{{"tokens", ErrWrongType}}},
		{name: "codex nothing", parse: parseCodex, doc: `{"auth_mode": "chatgpt", "tokens": null, "OPENAI_API_KEY": null}`, want: []problemKey{{"", ErrMissing}}},
		{name: "codex id token not a JWT", parse: parseCodex, doc: `{"tokens": {"id_token": "CANARY-not-a-jwt", "access_token": "CANARY-a", "refresh_token": "CANARY-r"}}`,
			want: []problemKey{{"tokens.id_token", ErrInvalidValue}}},
		{name: "codex id token payload not JSON", parse: parseCodex, doc: `{"tokens": {"id_token": "a.Q0FOQVJZ.CANARY", "access_token": "CANARY-a", "refresh_token": "CANARY-r"}}`,
			want: []problemKey{{"tokens.id_token", ErrInvalidValue}}},
		{name: "codex bad last_refresh", parse: parseCodex, doc: `{"OPENAI_API_KEY": "sk-CANARY", "last_refresh": "yesterday"}`, want: []problemKey{{"last_refresh", ErrInvalidValue}}},
		{name: "codex key with newline", parse: parseCodex, doc: `{"OPENAI_API_KEY": "sk-CANARY\nX-Evil: 1"}`, want: []problemKey{{"OPENAI_API_KEY", ErrInvalidValue}}},
		{name: "codex key not ASCII", parse: parseCodex, doc: `{"OPENAI_API_KEY": "sk-CANARY-é"}`, want: []problemKey{{"OPENAI_API_KEY", ErrInvalidValue}}},
		{name: "codex key too long", parse: parseCodex, doc: `{"OPENAI_API_KEY": "sk-CANARY` + strings.Repeat("x", maxSecretLen) + `"}`, want: []problemKey{{"OPENAI_API_KEY", ErrInvalidValue}}},
		{name: "codex account id control char", parse: parseCodex, doc: `{"tokens": {"id_token": "a.e30.CANARY", "access_token": "CANARY-a", "refresh_token": "CANARY-r", "account_id": "acct\u0007"}}`,
			want: []problemKey{{"tokens.account_id", ErrInvalidValue}}},
		{name: "codex minimal", parse: parseCodex, doc: `{"tokens": {"id_token": "a.e30.CANARY", "access_token": "CANARY-a", "refresh_token": "CANARY-r"}}`, wantFound: 1},

		// Claude Code.
		{name: "claude missing section", parse: parseClaudeCode, doc: `{"other": {}}`, want: []problemKey{{"claudeAiOauth", ErrMissing}}},
		{name: "claude expiry string", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "expiresAt": "1767254400000"}}`,
			want: []problemKey{{"claudeAiOauth.expiresAt", ErrWrongType}}},
		{name: "claude expiry fraction", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "expiresAt": 1.5e12}}`,
			want: []problemKey{{"claudeAiOauth.expiresAt", ErrInvalidValue}}},
		{name: "claude expiry negative", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "expiresAt": -1}}`,
			want: []problemKey{{"claudeAiOauth.expiresAt", ErrInvalidValue}}},
		{name: "claude expiry overflow", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "expiresAt": 99999999999999999999}}`,
			want: []problemKey{{"claudeAiOauth.expiresAt", ErrInvalidValue}}},
		{name: "claude scope wrong type", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "scopes": ["user:inference", 3]}}`,
			want: []problemKey{{"claudeAiOauth.scopes[1]", ErrWrongType}}},
		{name: "claude empty token", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "", "refreshToken": "CANARY-r"}}`,
			want: []problemKey{{"claudeAiOauth.accessToken", ErrInvalidValue}}},
		{name: "claude null refresh", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": null}}`,
			want: []problemKey{{"claudeAiOauth.refreshToken", ErrWrongType}}},
		{name: "claude scopes not a list", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "scopes": "user:inference"}}`,
			want: []problemKey{{"claudeAiOauth.scopes", ErrWrongType}}},
		{name: "claude plan too long", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "subscriptionType": "` + strings.Repeat("m", maxTextLen+1) + `"}}`,
			want: []problemKey{{"claudeAiOauth.subscriptionType", ErrInvalidValue}}},
		{name: "claude empty scope", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "scopes": [""]}}`,
			want: []problemKey{{"claudeAiOauth.scopes[0]", ErrInvalidValue}}},
		{name: "claude minimal", parse: parseClaudeCode, doc: `{"claudeAiOauth": {"accessToken": "CANARY-a", "refreshToken": "CANARY-r", "expiresAt": null, "subscriptionType": null}}`, wantFound: 1},

		// Gemini CLI.
		{name: "gemini expiry wrong type", parse: parseGeminiCLI, doc: `{"access_token": "CANARY-a", "refresh_token": "CANARY-r", "expiry_date": "soon"}`,
			want: []problemKey{{"expiry_date", ErrWrongType}}},
		{name: "gemini id token garbage", parse: parseGeminiCLI, doc: `{"access_token": "CANARY-a", "refresh_token": "CANARY-r", "id_token": "CANARY.!!.x"}`,
			want: []problemKey{{"id_token", ErrInvalidValue}}},
		{name: "gemini scope wrong type", parse: parseGeminiCLI, doc: `{"access_token": "CANARY-a", "refresh_token": "CANARY-r", "scope": ["openid"]}`,
			want: []problemKey{{"scope", ErrWrongType}}},
		{name: "gemini no id token", parse: parseGeminiCLI, doc: `{"access_token": "CANARY-a", "refresh_token": "CANARY-r"}`, wantFound: 1},

		// Qwen Code.
		{name: "qwen resource http", parse: parseQwenCode, doc: `{"access_token": "CANARY-a", "refresh_token": "CANARY-r", "resource_url": "http://portal.qwen.ai"}`,
			want: []problemKey{{"resource_url", ErrInvalidValue}}},
		{name: "qwen resource with user", parse: parseQwenCode, doc: `{"access_token": "CANARY-a", "refresh_token": "CANARY-r", "resource_url": "https://u@evil.example"}`,
			want: []problemKey{{"resource_url", ErrInvalidValue}}},
		{name: "qwen resource not a host", parse: parseQwenCode, doc: `{"access_token": "CANARY-a", "refresh_token": "CANARY-r", "resource_url": "portal qwen"}`,
			want: []problemKey{{"resource_url", ErrInvalidValue}}},
		{name: "qwen missing refresh", parse: parseQwenCode, doc: `{"access_token": "CANARY-a"}`, want: []problemKey{{"refresh_token", ErrMissing}}},
		{name: "qwen resource url form", parse: parseQwenCode, doc: `{"access_token": "CANARY-a", "refresh_token": "CANARY-r", "resource_url": "https://dashscope.aliyuncs.com/compatible-mode"}`, wantFound: 1},

		// Copilot.
		{name: "copilot token missing", parse: parseCopilot, doc: `{"github.com": {"user": "octocat"}, "ghe.example.com": {"oauth_token": "CANARY-ok"}}`,
			want: []problemKey{{`["github.com"].oauth_token`, ErrMissing}}, wantFound: 1},
		{name: "copilot bad host", parse: parseCopilot, doc: `{"not a host!": {"oauth_token": "CANARY-t"}}`,
			want: []problemKey{{`["not a host!"]`, ErrInvalidValue}}},
		{name: "copilot entry wrong type", parse: parseCopilot, doc: `{"github.com": "CANARY-t"}`, want: []problemKey{{`["github.com"]`, ErrWrongType}}},
		{name: "copilot host with port", parse: parseCopilot, doc: `{"ghe.example.com:8443": {"oauth_token": "CANARY-t"}}`, wantFound: 1},
		{name: "copilot app id without githubAppId", parse: parseCopilot, doc: `{"github.com:Ov23liABC": {"oauth_token": "CANARY-t"}}`, wantFound: 1},

		// OpenCode.
		{name: "opencode duplicate after slash strip", parse: parseOpenCode,
			doc:  `{"https://a.example": {"type": "wellknown", "key": "A", "token": "CANARY-1"}, "https://a.example/": {"type": "wellknown", "key": "A", "token": "CANARY-2"}}`,
			want: []problemKey{{`["https://a.example/"]`, ErrDuplicateKey}}, wantFound: 1},
		{name: "opencode expires fraction", parse: parseOpenCode, doc: `{"anthropic": {"type": "oauth", "refresh": "CANARY-r", "access": "CANARY-a", "expires": 17.5}}`,
			want: []problemKey{{"anthropic.expires", ErrInvalidValue}}},
		{name: "opencode missing type", parse: parseOpenCode, doc: `{"anthropic": {"refresh": "CANARY-r"}}`, want: []problemKey{{"anthropic.type", ErrMissing}}},
		{name: "opencode access missing", parse: parseOpenCode, doc: `{"anthropic": {"type": "oauth", "refresh": "CANARY-r", "expires": 0}}`, want: []problemKey{{"anthropic.access", ErrMissing}}},
		{name: "opencode access empty", parse: parseOpenCode, doc: `{"anthropic": {"type": "oauth", "refresh": "CANARY-r", "access": "", "expires": 0}}`, wantFound: 1},
		{name: "opencode bad enterprise url", parse: parseOpenCode, doc: `{"github-copilot": {"type": "oauth", "refresh": "CANARY-r", "access": "", "expires": 0, "enterpriseUrl": "https://ghe.example.com/some/path"}}`,
			want: []problemKey{{"github-copilot.enterpriseUrl", ErrInvalidValue}}},
		{name: "opencode wellknown bad env", parse: parseOpenCode, doc: `{"https://a.example": {"type": "wellknown", "key": "NOT AN ENV", "token": "CANARY-t"}}`,
			want: []problemKey{{`["https://a.example"].key`, ErrInvalidValue}}},
		{name: "opencode wellknown ftp", parse: parseOpenCode, doc: `{"ftp://a.example": {"type": "wellknown", "key": "A", "token": "CANARY-t"}}`,
			want: []problemKey{{`["ftp://a.example"]`, ErrUnsupported}}},
		{name: "opencode too much metadata", parse: parseOpenCode, doc: `{"openrouter": {"type": "api", "key": "CANARY-k", "metadata": {` + manyEntries(65) + `}}}`,
			want: []problemKey{{"openrouter.metadata", ErrInvalidValue}}},
		{name: "opencode metadata key with control character", parse: parseOpenCode, doc: `{"openrouter": {"type": "api", "key": "CANARY-k", "metadata": {"a\tb": "v"}}}`,
			want: []problemKey{{`openrouter.metadata["a\tb"]`, ErrInvalidValue}}},
		{name: "opencode metadata not an object", parse: parseOpenCode, doc: `{"openrouter": {"type": "api", "key": "CANARY-k", "metadata": true}}`,
			want: []problemKey{{"openrouter.metadata", ErrWrongType}}},
		{name: "opencode expires null", parse: parseOpenCode, doc: `{"anthropic": {"type": "oauth", "refresh": "CANARY-r", "access": null, "expires": null}}`,
			want: []problemKey{{"anthropic.access", ErrWrongType}, {"anthropic.expires", ErrWrongType}}},
		{name: "opencode long key is cut", parse: parseOpenCode, doc: `{"` + strings.Repeat("Ä", 100) + `": 1}`,
			want: []problemKey{{`["` + strings.Repeat("Ä", 40) + `…"]`, ErrWrongType}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, problems := tt.parse("auth.json", []byte(tt.doc))
			if diff := cmp.Diff(tt.want, keysOf(problems), cmpopts.EquateErrors(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if len(found) != tt.wantFound {
				t.Errorf("found %d credentials, want %d", len(found), tt.wantFound)
			}
			for _, f := range found {
				if err := f.Record.Validate(); err != nil {
					t.Error(err)
				}
			}
			assertNoSecrets(t, problemTexts(problems)...)
		})
	}
}

func manyEntries(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i) + `": "v"`)
	}
	return b.String()
}

// The message names the file and the JSON path, in a fixed form callers
// may show as is.
func TestProblemMessage(t *testing.T) {
	_, problems := parseCodex("/home/u/.codex/auth.json", []byte(`{"tokens": {"id_token": "a.e30.CANARY", "access_token": "CANARY-a", "refresh_token": ["CANARY-r"]}}`))
	want := []string{"codex: /home/u/.codex/auth.json: tokens.refresh_token: want string, got array"}
	if diff := cmp.Diff(want, problemTexts(problems)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var err error = problems[0]
	if !errors.Is(err, ErrWrongType) {
		t.Errorf("errors.Is(%v, ErrWrongType) = false", err)
	}
}

// Source.Parse is the source's parser.
func TestSourceParse(t *testing.T) {
	for _, s := range Sources() {
		_, problems := s.Parse("x.json", []byte(`[]`))
		if len(problems) != 1 || problems[0].Source != s.Name || !errors.Is(problems[0].Err, ErrWrongType) {
			t.Errorf("%s: Parse = %v", s.Name, problems)
		}
	}
}
