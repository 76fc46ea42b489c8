package adaptertest

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/pool"
)

// ReadResponse parses a raw HTTP response fixture (status line, headers,
// a blank line, the body) and returns it with the exact body bytes it
// holds.
func ReadResponse(t testing.TB, path string) (*http.Response, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		t.Fatalf("%s: no header/body separator", path)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return resp, body
}

// ClassifyFixture classifies the raw response in testdata/classify/file
// (see ReadResponse) at now, and fails t unless the outcome is want and
// the body was put back for the caller.
func ClassifyFixture(t testing.TB, classify func(*http.Response, time.Time) pool.Outcome, file string, now time.Time, want pool.Outcome) {
	t.Helper()
	resp, body := ReadResponse(t, filepath.Join("testdata", "classify", file))
	Classified(t, classify, resp, body, now, want)
}

// Classified fails t unless classify gives want for resp at now, and
// leaves resp's body yielding body.
func Classified(t testing.TB, classify func(*http.Response, time.Time) pool.Outcome, resp *http.Response, body []byte, now time.Time, want pool.Outcome) {
	t.Helper()
	if diff := cmp.Diff(want, classify(resp, now)); diff != "" {
		t.Errorf("Classify (-want +got):\n%s", diff)
	}
	BodyRestored(t, resp, body)
}

// HintCase is a 429's headers and the Until they must give.
type HintCase struct {
	Name   string
	Header http.Header
	Want   time.Time
}

// RateLimitHints fails t unless classify makes a 429 at url with each
// case's headers and body RateLimited until the case's Want, and puts the
// body back for the caller.
func RateLimitHints(t testing.TB, classify func(*http.Response, time.Time) pool.Outcome, url string, body []byte, now time.Time, cases []HintCase) {
	t.Helper()
	for _, c := range cases {
		resp := Response(http.StatusTooManyRequests, c.Header, body, url)
		got := classify(resp, now)
		if got.Kind != pool.RateLimited || !got.Until.Equal(c.Want) {
			t.Errorf("%s: got %v until %v, want rate-limited until %v", c.Name, got.Kind, got.Until, c.Want)
		}
		BodyRestored(t, resp, body)
	}
}
