package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/vaulttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

type reply struct {
	status int
	header http.Header
	body   string
}

// modelServer answers GET /v1/models from a script (the last reply
// repeats) and records the conditional headers of each request.
type modelServer struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []reply
	requests []http.Header
	paths    []string
}

func newModelServer(t *testing.T, replies ...reply) *modelServer {
	t.Helper()
	s := &modelServer{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Header.Clone())
		s.paths = append(s.paths, r.URL.Path)
		rep := s.replies[min(len(s.requests), len(s.replies))-1]
		s.mu.Unlock()
		for k, v := range rep.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *modelServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

const listV1 = `{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"id":"qwen3-coder-plus","object":"model"}]}`
const listV2 = `{"object":"list","data":[{"id":"gpt-5","object":"model","owned_by":"openai"}]}`

var (
	modelsV1 = []Model{{ID: "gpt-4o", OwnedBy: "system"}, {ID: "qwen3-coder-plus"}}
	modelsV2 = []Model{{ID: "gpt-5", OwnedBy: "openai"}}
)

func TestModelsNoCache(t *testing.T) {
	s := newModelServer(t, reply{200, nil, listV1})
	for range 2 {
		got, err := Models(context.Background(), s.Client(), s.URL+"/v1/")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(modelsV1, got); diff != "" {
			t.Errorf("models (-want +got):\n%s", diff)
		}
	}
	if s.count() != 2 || s.paths[0] != "/v1/models" {
		t.Errorf("requests = %d %v, want 2 to /v1/models", s.count(), s.paths)
	}
	if s.requests[0].Get("Accept") != "application/json" || s.requests[0].Get("If-None-Match") != "" {
		t.Errorf("request headers = %v", s.requests[0])
	}
}

func TestModelsCache(t *testing.T) {
	etag := http.Header{"Etag": {`W/"v1"`}, "Content-Type": {"application/json"}}
	tests := []struct {
		name string
		// steps: advance the clock, call Models, expect models and the
		// server's request count afterwards.
		replies []reply
		steps   []step
		// wantConditional are the conditional headers of the requests.
		wantConditional []string
	}{
		{
			name:    "hit within TTL",
			replies: []reply{{200, etag, listV1}},
			steps: []step{
				{0, modelsV1, 1},
				{time.Hour, modelsV1, 1},
				{11*time.Hour - time.Second, modelsV1, 1},
			},
			wantConditional: []string{""},
		},
		{
			name:    "expiry refetches",
			replies: []reply{{200, etag, listV1}, {200, http.Header{"Etag": {`"v2"`}}, listV2}, {304, nil, ""}},
			steps: []step{
				{0, modelsV1, 1},
				{12 * time.Hour, modelsV2, 2},
				{time.Hour, modelsV2, 2},
				{12 * time.Hour, modelsV2, 3},
			},
			wantConditional: []string{"", `INM W/"v1"`, `INM "v2"`},
		},
		{
			name:    "304 renews the TTL",
			replies: []reply{{200, etag, listV1}, {304, nil, ""}},
			steps: []step{
				{0, modelsV1, 1},
				{13 * time.Hour, modelsV1, 2},
				{11 * time.Hour, modelsV1, 2}, // 24 h after the download, 11 h after the 304
				{time.Hour, modelsV1, 3},
			},
			wantConditional: []string{"", `INM W/"v1"`, `INM W/"v1"`},
		},
		{
			name:    "last-modified",
			replies: []reply{{200, http.Header{"Last-Modified": {"Wed, 29 Apr 2026 10:00:00 GMT"}}, listV1}, {304, nil, ""}},
			steps: []step{
				{0, modelsV1, 1},
				{12 * time.Hour, modelsV1, 2},
			},
			wantConditional: []string{"", "IMS Wed, 29 Apr 2026 10:00:00 GMT"},
		},
		{
			name:    "hostile validators are not sent back",
			replies: []reply{{200, http.Header{"Etag": {"\"\u00e9t\u00e9\""}, "Last-Modified": {"yesterday"}}, listV1}},
			steps: []step{
				{0, modelsV1, 1},
				{12 * time.Hour, modelsV1, 2},
			},
			wantConditional: []string{"", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newModelServer(t, tt.replies...)
			c := vaulttest.NewClock(testNow)
			cache := &MemoryCache{}
			for i, st := range tt.steps {
				c.Advance(st.advance)
				got, err := Models(context.Background(), s.Client(), s.URL+"/v1", WithCache(cache), withClock(c.Now))
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if diff := cmp.Diff(st.want, got); diff != "" {
					t.Errorf("step %d: models (-want +got):\n%s", i, diff)
				}
				if n := s.count(); n != st.requests {
					t.Errorf("step %d: %d requests, want %d", i, n, st.requests)
				}
			}
			var cond []string
			for _, h := range s.requests {
				switch {
				case h.Get("If-None-Match") != "":
					cond = append(cond, "INM "+h.Get("If-None-Match"))
				case h.Get("If-Modified-Since") != "":
					cond = append(cond, "IMS "+h.Get("If-Modified-Since"))
				default:
					cond = append(cond, "")
				}
			}
			if diff := cmp.Diff(tt.wantConditional, cond); diff != "" {
				t.Errorf("conditional headers (-want +got):\n%s", diff)
			}
		})
	}
}

type step struct {
	advance  time.Duration
	want     []Model
	requests int
}

func TestModelsErrors(t *testing.T) {
	tests := []struct {
		name      string
		reply     reply
		opts      []Option
		wantIs    error
		wantState *StatusError
	}{
		{name: "401", reply: reply{401, nil, `{"error":{"message":"Incorrect API key provided: sk-abc","type":"invalid_request_error","code":"invalid_api_key"}}`}, wantState: &StatusError{Status: 401, Code: "invalid_api_key"}},
		{name: "429 retry-after", reply: reply{429, http.Header{"Retry-After": {"30"}}, `{"error":{"type":"requests"}}`}, wantState: &StatusError{Status: 429, Code: "requests", RetryAt: testNow.Add(30 * time.Second)}},
		{name: "500 html", reply: reply{500, nil, `<html>`}, wantState: &StatusError{Status: 500}},
		{name: "not json", reply: reply{200, nil, `<html>`}, wantIs: ErrMalformed},
		{name: "no data", reply: reply{200, nil, `{"object":"list"}`}, wantIs: ErrMalformed},
		{name: "data not an array", reply: reply{200, nil, `{"data":{"id":"x"}}`}, wantIs: ErrMalformed},
		{name: "entry not an object", reply: reply{200, nil, `{"data":["gpt-4o"]}`}, wantIs: ErrMalformed},
		{name: "empty id", reply: reply{200, nil, `{"data":[{"id":""}]}`}, wantIs: ErrMalformed},
		{name: "control character id", reply: reply{200, nil, `{"data":[{"id":"gpt\u001b[2J"}]}`}, wantIs: ErrMalformed},
		{name: "long id", reply: reply{200, nil, `{"data":[{"id":"` + strings.Repeat("m", 300) + `"}]}`}, wantIs: ErrMalformed},
		{name: "too many", reply: reply{200, nil, `{"data":[` + strings.Repeat(`{"id":"m"},`, MaxModels) + `{"id":"m"}]}`}, wantIs: ErrMalformed},
		{name: "too large", reply: reply{200, nil, listV1}, opts: []Option{withMaxBody(16)}, wantIs: ErrMalformed},
		{name: "unconditional 304", reply: reply{304, nil, ""}, wantIs: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newModelServer(t, tt.reply)
			opts := append([]Option{withClock(func() time.Time { return testNow })}, tt.opts...)
			_, err := Models(context.Background(), s.Client(), s.URL+"/v1", opts...)
			if tt.wantState != nil {
				var se *StatusError
				if !errors.As(err, &se) {
					t.Fatalf("Models = %v, want *StatusError", err)
				}
				if diff := cmp.Diff(tt.wantState, se); diff != "" {
					t.Errorf("StatusError (-want +got):\n%s", diff)
				}
				if strings.Contains(err.Error(), "sk-abc") {
					t.Error("error echoes the body")
				}
				return
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("Models = %v, want %v", err, tt.wantIs)
			}
		})
	}
}

func TestModelsBadBaseURL(t *testing.T) {
	for _, base := range []string{"", "api.example.com", "https://u:secret@x.example/v1", "https://x.example/v1?key=1"} {
		_, err := Models(context.Background(), nil, base)
		if !errors.Is(err, provider.ErrInvalidBaseURL) {
			t.Errorf("Models(%q) = %v, want provider.ErrInvalidBaseURL", base, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error reveals the password: %v", err)
		}
	}
}

func TestModelsUnusableCacheEntries(t *testing.T) {
	tests := []struct {
		name       string
		entry      func(url string) string
		wantReport bool
	}{
		{"garbage", func(string) string { return "\x00not json" }, true},
		{"other version", func(u string) string {
			return fmt.Sprintf(`{"v":2,"url":%q,"fetched":"2026-05-01T12:00:00Z","models":[]}`, u)
		}, true},
		{"other url", func(string) string {
			return `{"v":1,"url":"https://elsewhere.example/models","fetched":"2026-05-01T12:00:00Z","models":[{"id":"evil"}]}`
		}, true},
		{"unknown field", func(u string) string {
			return fmt.Sprintf(`{"v":1,"url":%q,"fetched":"2026-05-01T12:00:00Z","models":[],"x":1}`, u)
		}, true},
		{"fetched in the future", func(u string) string {
			return fmt.Sprintf(`{"v":1,"url":%q,"fetched":"2027-01-01T00:00:00Z","models":[{"id":"stale"}]}`, u)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newModelServer(t, reply{200, nil, listV1})
			target := s.URL + "/v1/models"
			cache := &MemoryCache{}
			cache.Store(context.Background(), "models "+target, []byte(tt.entry(target)))
			var reported []error
			got, err := Models(context.Background(), s.Client(), s.URL+"/v1", WithCache(cache),
				withClock(func() time.Time { return testNow }), WithCacheErrors(func(err error) { reported = append(reported, err) }))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(modelsV1, got); diff != "" {
				t.Errorf("models (-want +got):\n%s", diff)
			}
			if s.count() != 1 {
				t.Errorf("%d requests, want 1", s.count())
			}
			if got := len(reported) > 0; got != tt.wantReport {
				t.Errorf("reported %v, want a report: %v", reported, tt.wantReport)
			}
		})
	}
}

func TestModelsCacheFailuresAreBestEffort(t *testing.T) {
	s := newModelServer(t, reply{200, nil, listV1})
	boom := errors.New("disk full")
	var reported []error
	cache := CacheFuncs{
		LoadFunc:  func(context.Context, string) ([]byte, error) { return nil, boom },
		StoreFunc: func(context.Context, string, []byte) error { return boom },
	}
	got, err := Models(context.Background(), s.Client(), s.URL+"/v1", WithCache(cache),
		WithCacheKey("acct-A"), WithCacheErrors(func(err error) { reported = append(reported, err) }))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(modelsV1, got); diff != "" {
		t.Errorf("models (-want +got):\n%s", diff)
	}
	var ops []string
	for _, err := range reported {
		var ce *cacheError
		if !errors.As(err, &ce) || !errors.Is(err, boom) || ce.Key != "acct-A" {
			t.Errorf("reported %v", err)
			continue
		}
		ops = append(ops, ce.Op)
	}
	if diff := cmp.Diff([]string{"load", "store"}, ops); diff != "" {
		t.Errorf("reported ops (-want +got):\n%s", diff)
	}
	if _, err := (CacheFuncs{}).Load(context.Background(), "k"); err == nil {
		t.Error("empty CacheFuncs.Load succeeded")
	}
	if err := (CacheFuncs{}).Store(context.Background(), "k", nil); err == nil {
		t.Error("empty CacheFuncs.Store succeeded")
	}
}

func TestMemoryCacheCopies(t *testing.T) {
	var c MemoryCache
	ctx := context.Background()
	if d, err := c.Load(ctx, "k"); d != nil || err != nil {
		t.Fatalf("Load on empty cache = %q, %v", d, err)
	}
	in := []byte("abc")
	c.Store(ctx, "k", in)
	in[0] = 'X'
	out, _ := c.Load(ctx, "k")
	out[1] = 'Y'
	again, _ := c.Load(ctx, "k")
	if string(again) != "abc" {
		t.Errorf("MemoryCache shares memory with callers: %q", again)
	}
}

func TestModelsResultIsACopy(t *testing.T) {
	s := newModelServer(t, reply{200, nil, listV1})
	cache := &MemoryCache{}
	got, err := Models(context.Background(), s.Client(), s.URL+"/v1", WithCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	got[0].ID = "changed"
	again, err := Models(context.Background(), s.Client(), s.URL+"/v1", WithCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	if again[0].ID != "gpt-4o" {
		t.Error("modifying a result changed the cache")
	}
}

// withClock sets the clock Models reads the age of cached lists with.
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// withMaxBody bounds the answer.
func withMaxBody(n int64) Option { return func(o *options) { o.maxBody = n } }
