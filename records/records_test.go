package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const canary = "sk-canary-7f3a9c"

func sample() *Record {
	return &Record{
		Provider: "anthropic", Namespace: "default", Label: "me@example.com", Kind: KindOAuth,
		OAuth: &OAuth{Access: canary + "-access", Refresh: canary + "-refresh", IDToken: canary + "-id",
			Expiry: time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC), AccountID: "acct", Scopes: []string{"user:inference"},
			ClientID: "client", TokenURL: "https://auth.example.com/token", ClientSecret: canary + "-client-secret"},
		Meta:     map[string]string{"plan": "max", "quote": "a\"b\\c\n<&>\u2028"},
		Position: 3,
		Disabled: &Disabled{Reason: "leaked \"key\"", At: time.Date(2026, 3, 1, 0, 0, 0, 7, time.UTC)},
		Created:  time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Updated: time.Date(2026, 2, 1, 0, 0, 0, 1, time.UTC),
		Generation: 42,
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret(canary)
	type holder struct {
		Token Secret
		Ptr   *Secret
	}
	h := holder{Token: s, Ptr: &s}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h))
	}
	outputs = append(outputs, fmt.Sprint(s), fmt.Sprintln(s, h), s.String())
	if got, want := fmt.Sprintf("%#v", s), `records.Secret("[REDACTED]")`; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Token":"[REDACTED]","Ptr":"[REDACTED]"}`; string(js) != want {
		t.Errorf("encoding/json: %s, want %s", js, want)
	}
	outputs = append(outputs, string(js))
	var logs bytes.Buffer
	for _, hd := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(hd)
		l.Info("token", "secret", s, "holder", h, slog.Any("any", s))
	}
	outputs = append(outputs, logs.String())
	err = fmt.Errorf("refresh failed for %v", s)
	outputs = append(outputs, err.Error())
	for _, o := range outputs {
		if strings.Contains(o, canary) || strings.Contains(o, fmt.Sprintf("%x", canary)) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if !strings.Contains(logs.String(), Redacted) {
		t.Error("slog output does not show the redaction marker")
	}
	if s.Reveal() != canary {
		t.Error("Reveal lost the value")
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, r := range []*Record{
		sample(),
		{Provider: "openai", Namespace: "work", Label: "ci", Kind: KindAPI, API: &APIKey{Key: "sk-x"}},
		{Provider: "custom.example", Namespace: "default", Label: "x", Kind: KindWellKnown, WellKnown: &WellKnown{Key: "https://x", Token: "t"}},
		{Provider: "qwen", Namespace: "default", Label: "minimal", Kind: KindOAuth, OAuth: &OAuth{}},
	} {
		t.Run(r.ID().String(), func(t *testing.T) {
			b, err := Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			b2, _ := Marshal(got)
			if !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs:\n%s\n%s", b, b2)
			}
		})
	}
}

func TestCodecMatchesEncodingJSON(t *testing.T) {
	// The hand-written canonical encoder produces what encoding/json would.
	r := sample()
	r.Meta["ctl"] = "\x00\x01\x1f\t\r\n\u2029é😀"
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		t.Fatal(err)
	}
	if got := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, b) {
		t.Fatalf("encoding/json:\n%s\nMarshal:\n%s", got, b)
	}
}

func TestUnmarshalStrict(t *testing.T) {
	good, _ := Marshal(sample())
	gs := string(good)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrInvalidRecord},
		{"not an object", "[]", ErrInvalidRecord},
		{"no version", strings.Replace(gs, `"v":1,`, ``, 1), ErrInvalidRecord},
		{"version 2", strings.Replace(gs, `"v":1`, `"v":2`, 1), ErrUnsupportedVersion},
		{"version 2 with new fields", strings.Replace(gs, `"v":1`, `"v":2,"future":true`, 1), ErrUnsupportedVersion},
		{"unknown field", strings.Replace(gs, `"v":1`, `"v":1,"extra":1`, 1), ErrInvalidRecord},
		{"case-folded key", strings.Replace(gs, `"provider"`, `"Provider"`, 1), ErrInvalidRecord},
		{"duplicate key", strings.Replace(gs, `"v":1`, `"v":1,"v":1`, 1), ErrInvalidRecord},
		{"whitespace", strings.Replace(gs, `"v":1`, `"v": 1`, 1), ErrInvalidRecord},
		{"trailing data", gs + "{}", ErrInvalidRecord},
		{"non-UTC time", strings.Replace(gs, `"created":"2026-01-01T00:00:00Z"`, `"created":"2026-01-01T01:00:00+01:00"`, 1), ErrInvalidRecord},
		{"bad kind", strings.Replace(gs, `"kind":"oauth"`, `"kind":"api"`, 1), ErrInvalidRecord},
		{"bad provider", strings.Replace(gs, `"provider":"anthropic"`, `"provider":"Anthropic"`, 1), ErrInvalidID},
		{"label with slash", strings.Replace(gs, `"label":"me@example.com"`, `"label":"a/b"`, 1), ErrInvalidID},
		{"wrong type", strings.Replace(gs, `"generation":42`, `"generation":"42"`, 1), ErrInvalidRecord},
		{"invalid UTF-8", strings.Replace(gs, `"plan":"max"`, "\"plan\":\"m\xffx\"", 1), ErrInvalidRecord},
		{"too large", `{"v":1,"pad":"` + strings.Repeat("x", MaxRecordSize) + `"}`, ErrRecordTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Unmarshal([]byte(tc.in))
			if !errors.Is(err, tc.want) || r != nil {
				t.Fatalf("got %v, %v; want %v", r, err, tc.want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestID(t *testing.T) {
	tests := []struct {
		in   string
		want ID
		ok   bool
	}{
		{"anthropic/default/me@example.com", ID{"anthropic", "default", "me@example.com"}, true},
		{"openai/work", ID{"openai", "default", "work"}, true},
		{"copilot/github.example.com/octo", ID{"copilot", "github.example.com", "octo"}, true},
		{"Anthropic/default/x", ID{}, false},
		{"a/b/c/d", ID{}, false},
		{"a//c", ID{}, false},
		{"a/b/c\n", ID{}, false},
		{"a/b/..", ID{}, false},
		{"a/b/" + strings.Repeat("x", MaxLabelLen+1), ID{}, false},
		{"-a/b/c", ID{}, false},
		{"a/b/\xff", ID{}, false},
		{"a/b/c\u0085", ID{}, false},
	}
	for _, tc := range tests {
		got, err := ParseID(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseID(%q): err %v", tc.in, err)
			continue
		}
		if tc.ok && got != tc.want {
			t.Errorf("ParseID(%q) = %v", tc.in, got)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidID) {
			t.Errorf("ParseID(%q): error %v is not ErrInvalidID", tc.in, err)
		}
	}
}

// secretFields returns the values of every Secret field reachable from v
// through struct pointers.
func secretFields(v reflect.Value) []Secret {
	switch {
	case v.Type() == reflect.TypeFor[Secret]():
		return []Secret{Secret(v.String())}
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return secretFields(v.Elem())
	case v.Kind() == reflect.Struct:
		var out []Secret
		for i := range v.NumField() {
			out = append(out, secretFields(v.Field(i))...)
		}
		return out
	}
	return nil
}

// TestSecrets: every credential a record holds, in every kind of record,
// is one of Secrets; a Secret field added to a record and forgotten there
// shows here.
func TestSecrets(t *testing.T) {
	recs := map[string]*Record{
		"oauth":      {OAuth: &OAuth{Access: "acc-1", Refresh: "ref-2", IDToken: "idt-3", ClientSecret: "cs-6"}},
		"api":        {API: &APIKey{Key: "key-4"}},
		"well-known": {WellKnown: &WellKnown{Token: "tok-5"}},
		"none":       {},
	}
	for name, r := range recs {
		got := r.Secrets()
		want := secretFields(reflect.ValueOf(r))
		var nonEmpty []Secret
		for _, s := range got {
			if s != "" {
				nonEmpty = append(nonEmpty, s)
			}
		}
		if diff := cmp.Diff(want, nonEmpty); diff != "" {
			t.Errorf("%s: Secrets (-fields +got):\n%s", name, diff)
		}
	}
}
