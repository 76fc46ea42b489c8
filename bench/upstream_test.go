package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The two accounts' API keys, as the fake provider knows them.
const (
	key1 = "sk-bench-acct1"
	key2 = "sk-bench-acct2"
)

// retryAfter is the rate-limit window the fake provider announces: one
// second, the shortest Retry-After can say, so that waiting it out shows
// in a short run.
const retryAfter = time.Second

// chatBody is a small chat completion request, like an SDK's.
const chatBody = `{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}`

// upstream is a fake OpenAI-compatible provider on loopback that counts
// every request it receives. A key armed with limitNext answers its next
// request 429 with "Retry-After: 1" and every request in the second that
// follows too, as a provider's rate-limit window does; after that, and for
// keys never armed, requests are served. Unknown keys get 401.
type upstream struct {
	*httptest.Server
	now      func() time.Time
	requests atomic.Int64

	mu    sync.Mutex
	known map[string]bool
	armed map[string]bool
	until map[string]time.Time
	byKey map[string]int
}

func newUpstream(tb testing.TB, now func() time.Time, keys ...string) *upstream {
	u := &upstream{now: now, known: map[string]bool{}, armed: map[string]bool{},
		until: map[string]time.Time{}, byKey: map[string]int{}}
	for _, k := range keys {
		u.known[k] = true
	}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	tb.Cleanup(u.Close)
	return u
}

// limitNext makes key's next request open a rate-limit window.
func (u *upstream) limitNext(key string) {
	u.mu.Lock()
	u.armed[key] = true
	u.mu.Unlock()
}

// sent returns how many requests each key has sent.
func (u *upstream) sent() map[string]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]int, len(u.byKey))
	for k, n := range u.byKey {
		out[k] = n
	}
	return out
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	u.requests.Add(1)
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	now := u.now()
	u.mu.Lock()
	u.byKey[key]++
	if u.armed[key] {
		u.armed[key] = false
		u.until[key] = now.Add(retryAfter)
	}
	known, limited := u.known[key], now.Before(u.until[key])
	u.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch {
	case !known:
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
	case limited:
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`)
	default:
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}]}`)
	}
}

// newBase is a connection pool of the sender's own, so that no
// alternative reuses another's connections.
func newBase(tb testing.TB) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(t.CloseIdleConnections)
	return t
}

// finish reads and closes the answer, as a caller does, and returns its
// status.
func finish(resp *http.Response, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}
