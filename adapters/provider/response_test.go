package provider

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/pool"
)

func TestErrorResponse(t *testing.T) {
	resp := func(status int, body string) *http.Response {
		return &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader([]byte(body)))}
	}
	cases := []struct {
		name     string
		resp     *http.Response
		want     pool.Outcome
		wantBody string
		isError  bool
	}{
		{"nil", nil, pool.Outcome{Kind: pool.Transient}, "", false},
		{"success", resp(200, "ok"), pool.Outcome{Kind: pool.Success, Status: 200}, "", false},
		{"redirect", resp(304, ""), pool.Outcome{Kind: pool.Success, Status: 304}, "", false},
		{"error", resp(429, `{"error":"slow"}`), pool.Outcome{Status: 429}, `{"error":"slow"}`, true},
	}
	for _, c := range cases {
		o, body, isError := errorResponse(c.resp)
		if diff := cmp.Diff(c.want, o); diff != "" || string(body) != c.wantBody || isError != c.isError {
			t.Errorf("%s: body %q, error %v, outcome (-want +got):\n%s", c.name, body, isError, diff)
		}
		if isError {
			if rest, _ := io.ReadAll(c.resp.Body); string(rest) != c.wantBody {
				t.Errorf("%s: body not put back: %q", c.name, rest)
			}
		}
	}
}
