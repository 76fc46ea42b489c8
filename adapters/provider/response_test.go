package provider

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

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

// ClassifyError hands only error answers to the adapter's reading, and
// withholds a reason that echoes the request's credential.
func TestClassifyError(t *testing.T) {
	resp := func(status int, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, "https://api.example/v1", nil)
		req.Header.Set("Authorization", "Bearer sk-SECRET-key")
		return &http.Response{StatusCode: status, Body: io.NopCloser(bytes.NewReader([]byte(body))), Request: req}
	}
	var calls int
	echo := func(o pool.Outcome, _ *http.Response, body []byte, _ time.Time) pool.Outcome {
		calls++
		o.Kind, o.Reason = pool.RateLimited, string(body)
		return o
	}
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	if got := ClassifyError(resp(200, "ok"), now, echo); got.Kind != pool.Success || calls != 0 {
		t.Errorf("success: %+v after %d calls", got, calls)
	}
	if got := ClassifyError(nil, now, echo); got.Kind != pool.Transient || calls != 0 {
		t.Errorf("nil response: %+v after %d calls", got, calls)
	}
	want := pool.Outcome{Kind: pool.RateLimited, Status: 429, Reason: "slow_down"}
	if diff := cmp.Diff(want, ClassifyError(resp(429, "slow_down"), now, echo)); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	got := ClassifyError(resp(429, "sk-SECRET-key"), now, echo)
	if got.Reason == "sk-SECRET-key" || got.Kind != pool.RateLimited {
		t.Errorf("echoed credential: %+v", got)
	}
}
