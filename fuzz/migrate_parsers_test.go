package fuzz

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/migrate"
	"github.com/authvault/authvault/records"
)

// The migration parsers read files other programs wrote, possibly broken
// or hostile. For any input each must: not panic; return only records
// that validate, whose secrets all come from the input; name the right
// source and path; give the same answer twice; and never put a token of
// the input into a problem's text.

func FuzzMigrateOpenCode(f *testing.F) {
	f.Add([]byte(`{"anthropic":{"type":"oauth","refresh":"sk-ant-ort01-fuzzrefresh","access":"sk-ant-oat01-fuzzaccess","expires":1767250000000}}`))
	f.Add([]byte(`{"https://a.example/":{"type":"wellknown","key":"A_TOKEN","token":"wellknown-fuzz-token"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParser(t, migrate.SourceOpenCode, "auth.json", parserOf(migrate.SourceOpenCode), data)
	})
}

func FuzzMigrateClaudeCode(f *testing.F) {
	f.Add([]byte(`{"claudeAiOauth":{"accessToken":"sk-ant-oat01-fuzzaccess","refreshToken":"sk-ant-ort01-fuzzrefresh","expiresAt":1767254400000}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParser(t, migrate.SourceClaudeCode, ".credentials.json", parserOf(migrate.SourceClaudeCode), data)
	})
}

func FuzzMigrateCodex(f *testing.F) {
	f.Add([]byte(`{"OPENAI_API_KEY":"sk-proj-fuzz-api-key","tokens":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParser(t, migrate.SourceCodex, "auth.json", parserOf(migrate.SourceCodex), data)
	})
}

func FuzzMigrateGeminiCLI(f *testing.F) {
	f.Add([]byte(`{"access_token":"ya29.fuzz-access","refresh_token":"1//fuzz-refresh-token","expiry_date":1767229199000}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParser(t, migrate.SourceGeminiCLI, "oauth_creds.json", parserOf(migrate.SourceGeminiCLI), data)
	})
}

func FuzzMigrateQwenCode(f *testing.F) {
	f.Add([]byte(`{"access_token":"qwen-fuzz-access","refresh_token":"qwen-fuzz-refresh","resource_url":"portal.qwen.ai"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParser(t, migrate.SourceQwenCode, "oauth_creds.json", parserOf(migrate.SourceQwenCode), data)
	})
}

func FuzzMigrateCopilot(f *testing.F) {
	f.Add([]byte(`{"github.com:Iv1.abc":{"user":"octocat","oauth_token":"ghu_fuzzCopilotToken","githubAppId":"Iv1.abc"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParser(t, migrate.SourceCopilot, "apps.json", parserOf(migrate.SourceCopilot), data)
	})
}

type parseFunc func(path string, data []byte) ([]migrate.Found, []migrate.Problem)

// parserOf returns the parser of the source called name.
func parserOf(name string) parseFunc {
	s, ok := migrate.SourceByName(name)
	if !ok {
		panic("no migration source " + name)
	}
	return s.Parse
}

func checkParser(t *testing.T, source, path string, parse parseFunc, data []byte) {
	found, problems := parse(path, data)
	doc := scan(data)
	for _, fd := range found {
		r := fd.Record
		if r == nil {
			t.Fatal("Found without a record")
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("invalid record: %v", err)
		}
		if fd.Source != source || fd.Path != path {
			t.Fatalf("found names %q %q, want %q %q", fd.Source, fd.Path, source, path)
		}
		if !r.Created.IsZero() || !r.Updated.IsZero() || r.Generation != 0 {
			t.Fatal("parser set vault bookkeeping fields")
		}
		for _, s := range secretsOf(r) {
			if !doc.values[s] {
				t.Fatalf("record %s holds a secret that is no string of the input", r.ID())
			}
		}
	}
	for _, p := range problems {
		if p.Source != source || p.Path != path || p.Err == nil {
			t.Fatalf("problem %+v names the wrong source or path, or has no error", p)
		}
	}
	again, againProblems := parse(path, data)
	if diff := cmp.Diff(found, again, cmpopts.IgnoreUnexported(migrate.Found{})); diff != "" {
		t.Fatalf("second parse differs:\n%s", diff)
	}
	if diff := cmp.Diff(texts(problems), texts(againProblems)); diff != "" {
		t.Fatalf("second parse reports differently:\n%s", diff)
	}
	if leaked(path, parse, data, doc, problems) {
		t.Fatalf("a token of the input appears in a problem: %q", texts(problems))
	}
}

// leaked reports whether a problem's text holds a token of the input: a
// string value (12 bytes or longer) of a token field. A string that is
// also part of a key may appear (keys are named in paths), and so may one
// that the fixed wording of a message happens to contain: the token is
// changed in the input, and only if the changed token then shows up in
// the new problems is its presence an echo of the input.
func leaked(path string, parse parseFunc, data []byte, doc document, problems []migrate.Problem) bool {
	msgs := texts(problems)
	for tok := range doc.tokens {
		if len(tok) < 12 || doc.inKey(tok) || !containsAny(msgs, tok) {
			continue
		}
		alt := rotate(tok)
		if alt == tok || !bytes.Contains(data, []byte(tok)) {
			continue // cannot vary it without changing the document's structure
		}
		_, altProblems := parse(path, bytes.ReplaceAll(data, []byte(tok), []byte(alt)))
		if containsAny(texts(altProblems), alt) {
			return true
		}
	}
	return false
}

// tokenFields are the fields that hold tokens in the sources' formats.
var tokenFields = map[string]bool{
	"access": true, "refresh": true, "key": true, "token": true, // OpenCode
	"accessToken": true, "refreshToken": true, // Claude Code
	"access_token": true, "refresh_token": true, "id_token": true, "OPENAI_API_KEY": true, // Codex, Gemini CLI, Qwen Code
	"oauth_token": true, // Copilot
}

// document is what a lenient tokenizer sees in an input, as far as the
// input is valid JSON.
type document struct {
	keys   []string
	values map[string]bool // every string value
	tokens map[string]bool // string values of token fields
}

func (d document) inKey(s string) bool {
	for _, k := range d.keys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func scan(data []byte) document {
	doc := document{values: map[string]bool{}, tokens: map[string]bool{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object, wantKey bool
		key             string
	}
	var stack []*frame
	top := func() *frame {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	valueDone := func() {
		if f := top(); f != nil && f.object {
			f.wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return doc
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if f := top(); f != nil && f.object && f.wantKey {
				f.key, f.wantKey = v, false
				doc.keys = append(doc.keys, v)
				continue
			}
			doc.values[v] = true
			if f := top(); f != nil && f.object && tokenFields[f.key] {
				doc.tokens[v] = true
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

func secretsOf(r *records.Record) []string {
	var out []string
	for _, v := range r.Secrets() {
		if v != "" {
			out = append(out, v.Reveal())
		}
	}
	return out
}

func texts(ps []migrate.Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

func containsAny(msgs []string, s string) bool {
	for _, m := range msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// rotate maps letters and digits to others of their class, keeping every
// other byte, so the result is a token of the same shape.
func rotate(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + (c-'a'+13)%26
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + (c-'A'+13)%26
		case c >= '0' && c <= '9':
			b[i] = '0' + (c-'0'+5)%10
		}
	}
	return string(b)
}

// The leak check catches a parser that echoes a token, and does not
// blame one whose fixed wording happens to match a token.
func TestMigrateLeakCheck(t *testing.T) {
	echo := func(path string, data []byte) ([]migrate.Found, []migrate.Problem) {
		_, problems := parserOf(migrate.SourceCodex)(path, data)
		if len(problems) > 0 {
			problems[0].Key = string(data)
		}
		return nil, problems
	}
	tests := []struct {
		name  string
		parse parseFunc
		data  string
		want  bool
	}{
		{"echo", echo, `{"tokens": {"refresh_token": "tok-0123456789abcdef"}}`, true},
		{"echo of a short token", echo, `{"tokens": {"refresh_token": "tok-01"}}`, false},
		{"wording", parserOf(migrate.SourceCodex), `{"x": {"refresh_token": "tokens nor OPENAI_API_KEY"}}`, false},
		{"real parser", parserOf(migrate.SourceCodex), `{"tokens": {"refresh_token": ["tok-0123456789abcdef"]}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.data)
			_, problems := tt.parse("auth.json", data)
			if len(problems) == 0 {
				t.Fatal("no problems to check")
			}
			if got := leaked("auth.json", tt.parse, data, scan(data), problems); got != tt.want {
				t.Errorf("leaked = %v, want %v (problems %q)", got, tt.want, texts(problems))
			}
		})
	}
}
