package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Hosts are test servers, one per account host, that record what each
// received: "PATH AUTHORIZATION" per request. They check that a request
// Authorize re-pointed reaches its own account's host with its own token.
type Hosts struct {
	mu   sync.Mutex
	seen map[string][]string
}

// Server starts the host name, closed when the test ends.
func (h *Hosts) Server(t testing.TB, name string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.seen == nil {
			h.seen = map[string][]string{}
		}
		h.seen[name] = append(h.seen[name], r.URL.Path+" "+r.Header.Get("Authorization"))
	}))
	t.Cleanup(s.Close)
	return s
}

// Seen returns what each host received.
func (h *Hosts) Seen() map[string][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string][]string, len(h.seen))
	for k, v := range h.seen {
		out[k] = append([]string(nil), v...)
	}
	return out
}
