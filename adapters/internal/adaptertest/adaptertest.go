package adaptertest

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fixture reads testdata/name.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Response builds a response as a transport would return it: a body
// that is read once, and the request it answers.
func Response(status int, header http.Header, body []byte, url string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	return &http.Response{
		StatusCode:    status,
		Status:        http.StatusText(status),
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// FixtureResponse is Response with the body read from testdata/fixture,
// none when fixture is ""; it returns the body too.
func FixtureResponse(t testing.TB, status int, header http.Header, fixture, url string) (*http.Response, []byte) {
	t.Helper()
	var body []byte
	if fixture != "" {
		body = Fixture(t, fixture)
	}
	return Response(status, header, body, url), body
}

// Headers builds an http.Header from name, value pairs (names canonicalized).
func Headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// BodyRestored fails t unless resp's body still yields exactly want.
func BodyRestored(t testing.TB, resp *http.Response, want []byte) {
	t.Helper()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body after Classify: %v", err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatalf("closing the body: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("body after Classify differs: got %d bytes, want %d", len(got), len(want))
	}
}

// NoSecret fails t if err's message contains any of secrets.
func NoSecret(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Fatalf("error message leaks a secret: %q", msg)
		}
	}
}
