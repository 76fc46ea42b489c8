package provider

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var errorCodeSeeds = []string{
	``, ` `, `{}`, `[]`, `null`, `"x"`, `1`, `{"error":null}`,
	`{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
	`{"error":{"code":"insufficient_quota","type":"insufficient_quota"}}`,
	`{"code":"Throttling.RateQuota","message":"Requests rate limit exceeded"}`,
	`{"error":"invalid_grant","code":"top"}`,
	`{"error":{"code":"a"},"error":"b","code":"c"}`,
	`{"error":"b","error":{"code":"a"}}`,
	`{"error":{"code":"a","code":7}}`,
	`{"error":{"code":"r\u0061te_limit"}}`,
	`{"\u0065rror":{"c\u006fde":"x"}}`,
	`{"ERROR":{"CODE":"x"},"Code":"y"}`,
	`{"error":{"code":"has space"}}`,
	`{"error":{"code":"` + strings.Repeat("a", 65) + `"}}`,
	`{"error":{"code":"\ud800"}}`,
	"{\"error\":{\"code\":\"a\xffb\"}}",
	"{\"error\":{\"code\":\"a\x01\"}}",
	` {"error" : { "code" : "spaced" , "type" : "t" } } `,
	`{"error":{"code":"x"}} trailing`, `{"error":{"code":"x"}`, `{"error":{"code":"x",}}`,
	`{"a":[1,-0,0.5e+10,-1E-2,true,false,null,{},[],"s"],"code":"n"}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":-}`, `{"a":tru}`, `{"a":nulll}`,
	`{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`, `{"a" "b"}`, `{,}`, `[1,]`, `[1 2]`,
	`{"code":"x"}` + "\n", "\ufeff{}",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"x":` + strings.Repeat(`{"y":`, 9998) + `1` + strings.Repeat("}", 9998) + `,"code":"deep"}`,
	`{"x":` + strings.Repeat(`{"y":`, 9999) + `1` + strings.Repeat("}", 9999) + `,"code":"deep"}`,
}

// The seeds whose answer is not ""/"": member names match exactly (an
// escaped name is the same name), the last duplicate counts, and an
// "error" that is not an object leaves the top-level members.
var errorCodeWant = map[string][2]string{
	`{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`: {"rate_limit_exceeded", "requests"},
	`{"error":{"code":"insufficient_quota","type":"insufficient_quota"}}`:                                    {"insufficient_quota", "insufficient_quota"},
	`{"code":"Throttling.RateQuota","message":"Requests rate limit exceeded"}`:                               {"Throttling.RateQuota", ""},
	`{"error":"invalid_grant","code":"top"}`:                                                                 {"top", ""},
	`{"error":{"code":"a"},"error":"b","code":"c"}`:                                                          {"c", ""},
	`{"error":"b","error":{"code":"a"}}`:                                                                     {"a", ""},
	`{"error":{"code":"r\u0061te_limit"}}`:                                                                   {"rate_limit", ""},
	`{"\u0065rror":{"c\u006fde":"x"}}`:                                                                       {"x", ""},
	`{"ERROR":{"CODE":"x"},"Code":"y"}`:                                                                      {"", ""},
	` {"error" : { "code" : "spaced" , "type" : "t" } } `:                                                    {"spaced", "t"},
	`{"a":[1,-0,0.5e+10,-1E-2,true,false,null,{},[],"s"],"code":"n"}`:                                        {"n", ""},
	`{"code":"x"}` + "\n":                                                                                    {"x", ""},
	`{"x":` + strings.Repeat(`{"y":`, 9998) + `1` + strings.Repeat("}", 9998) + `,"code":"deep"}`:            {"deep", ""},
	`{"x":` + strings.Repeat(`{"y":`, 9999) + `1` + strings.Repeat("}", 9999) + `,"code":"deep"}`:            {"deep", ""}, // 10000 levels, encoding/json's limit
}

func TestErrorCodeSeeds(t *testing.T) {
	for _, body := range errorCodeSeeds {
		code, typ := ErrorCode([]byte(body))
		if want := errorCodeWant[body]; code != want[0] || typ != want[1] {
			t.Errorf("ErrorCode(%.80q) = %q, %q; want %q, %q", body, code, typ, want[0], want[1])
		}
	}
}

// stringValues lists every string in a JSON document, read token by token
// (a second reading, independent of ErrorCode's).
func stringValues(body []byte) map[string]bool {
	out := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if s, ok := tok.(string); ok {
			out[s] = true
		}
	}
}

// FuzzErrorCode: whatever the body, ErrorCode answers the same twice,
// answers only loggable identifiers, nothing for invalid JSON, and only
// strings the body holds.
func FuzzErrorCode(f *testing.F) {
	for _, s := range errorCodeSeeds {
		if len(s) < 1000 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, typ := ErrorCode(body)
		if c2, t2 := ErrorCode(body); c2 != code || t2 != typ {
			t.Fatalf("ErrorCode(%q) answered %q, %q then %q, %q", body, code, typ, c2, t2)
		}
		for _, v := range []string{code, typ} {
			if v == "" {
				continue
			}
			if !(Code(v) != "") {
				t.Fatalf("ErrorCode(%q) = %q: not an identifier", body, v)
			}
			if !json.Valid(body) || !stringValues(body)[v] {
				t.Fatalf("ErrorCode(%q) = %q: not a string of the body", body, v)
			}
		}
	})
}

func BenchmarkErrorCode(b *testing.B) {
	body := []byte(`{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
	b.ReportAllocs()
	for b.Loop() {
		ErrorCode(body)
	}
}
