package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// NoRequestServer starts a server that fails t if any request reaches it:
// the endpoint of a test checking that a refusal comes before anything is
// sent. It is closed, and checked, when the test ends.
func NoRequestServer(t testing.TB) *httptest.Server {
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(func() {
		s.Close()
		if n := hits.Load(); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
	return s
}

// ClosedURL returns the URL of a server that has stopped listening: an
// endpoint every request to which fails without an answer.
func ClosedURL(t testing.TB) string {
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	return s.URL
}
