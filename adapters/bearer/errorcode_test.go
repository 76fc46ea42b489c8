package bearer

import (
	"encoding/json"
	"strings"
	"testing"
)

// errorCodeReference is what ErrorCode promises, said the plainest way:
// the body decoded into generic maps, exact member names, the last
// duplicate winning.
func errorCodeReference(body []byte) (code, typ string) {
	var top map[string]any
	if json.Unmarshal(body, &top) != nil {
		return "", ""
	}
	pick := func(m map[string]any, k string) string {
		s, _ := m[k].(string)
		if !IsIdentifier(s) {
			return ""
		}
		return s
	}
	if e, ok := top["error"].(map[string]any); ok {
		return pick(e, "code"), pick(e, "type")
	}
	return pick(top, "code"), pick(top, "type")
}

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

func TestErrorCodeMatchesReference(t *testing.T) {
	for _, body := range errorCodeSeeds {
		code, typ := ErrorCode([]byte(body))
		wc, wt := errorCodeReference([]byte(body))
		if code != wc || typ != wt {
			t.Errorf("ErrorCode(%.80q) = %q, %q; the reference says %q, %q", body, code, typ, wc, wt)
		}
	}
}

func FuzzErrorCode(f *testing.F) {
	for _, s := range errorCodeSeeds {
		if len(s) < 1000 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, typ := ErrorCode(body)
		wc, wt := errorCodeReference(body)
		if code != wc || typ != wt {
			t.Fatalf("ErrorCode(%q) = %q, %q; the reference says %q, %q", body, code, typ, wc, wt)
		}
		if code != "" && !IsIdentifier(code) || typ != "" && !IsIdentifier(typ) {
			t.Fatalf("ErrorCode(%q) = %q, %q: not identifiers", body, code, typ)
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
