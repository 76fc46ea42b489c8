package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
)

// benchUpstream answers 429 for the tokens in limited and 200 otherwise,
// with a small JSON body like a provider's, and counts the requests.
func benchUpstream(b *testing.B, limited map[string]bool, count *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		io.Copy(io.Discard, r.Body)
		if limited[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
			rateLimited(30)(w, r)
			return
		}
		ok(w, r)
	}))
	b.Cleanup(srv.Close)
	return srv
}

const benchBody = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

// benchDo sends one request as a caller would, with its own API key when
// key is set (a client without authvault), and checks for a 200.
func benchDo(b *testing.B, c *http.Client, url, key string) {
	req, err := http.NewRequest("POST", url, strings.NewReader(benchBody))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkRoundTrip: bare is the request a client without authvault
// sends, its API key set by itself; authvault is the same request without
// a key, through the transport, which picks the account and sets its key.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		srv := benchUpstream(b, nil, new(atomic.Int64))
		base := http.DefaultTransport.(*http.Transport).Clone()
		defer base.CloseIdleConnections()
		c := &http.Client{Transport: base}
		b.ReportAllocs()
		for b.Loop() {
			benchDo(b, c, srv.URL, "tok4")
		}
	})
	b.Run("authvault", func(b *testing.B) {
		srv := benchUpstream(b, nil, new(atomic.Int64))
		e := newEnv(b, envOpt{accounts: 4, poolOpts: []pool.Option{pool.WithWriteBehind()}, trOpts: []Option{WithOrigins(srv.URL)}})
		base := http.DefaultTransport.(*http.Transport).Clone()
		defer base.CloseIdleConnections()
		e.tr.cfg.base = base
		b.ReportAllocs()
		for b.Loop() {
			benchDo(b, e.client, srv.URL, "")
		}
	})
}

// BenchmarkRotate: the first three accounts answer 429, the fourth serves.
// The clock advances past the cooldowns after every request, so every
// request meets the same three rate limits; the cooldowns are written
// behind, as authvault.Open configures the pool, while requests go on.
// The pool's periodic relisting, due every 30 s of that clock, would run
// on every request here as it never does in real time: it is left out.
func BenchmarkRotate(b *testing.B) {
	// bare: the same four round trips (three 429s, then a 200) sent one
	// after another through a plain http.Transport, for the share of
	// ratelimited=3 that is the upstream's.
	b.Run("bare", func(b *testing.B) {
		var upstream atomic.Int64
		srv := benchUpstream(b, map[string]bool{"tok1": true, "tok2": true, "tok3": true}, &upstream)
		base := http.DefaultTransport.(*http.Transport).Clone()
		defer base.CloseIdleConnections()
		c := &http.Client{Transport: base}
		b.ReportAllocs()
		for b.Loop() {
			for i := 1; i <= 4; i++ {
				req, err := http.NewRequest("POST", srv.URL, strings.NewReader(benchBody))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", fmt.Sprintf("Bearer tok%d", i))
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if want := map[bool]int{true: 200, false: 429}[i == 4]; resp.StatusCode != want {
					b.Fatalf("status %d, want %d", resp.StatusCode, want)
				}
			}
		}
	})
	b.Run("ratelimited=3", func(b *testing.B) {
		var upstream atomic.Int64
		srv := benchUpstream(b, map[string]bool{"tok1": true, "tok2": true, "tok3": true}, &upstream)
		e := newEnv(b, envOpt{accounts: 4, poolOpts: []pool.Option{pool.WithWriteBehind(), pool.WithRelistInterval(0)}, trOpts: []Option{WithOrigins(srv.URL)}})
		base := http.DefaultTransport.(*http.Transport).Clone()
		defer base.CloseIdleConnections()
		e.tr.cfg.base = base
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			benchDo(b, e.client, srv.URL, "")
			e.clock.Advance(31 * time.Second)
			n++
		}
		b.StopTimer()
		if got := upstream.Load(); got != int64(4*n) {
			b.Fatalf("upstream saw %d requests for %d round trips, want 4 each", got, n)
		}
		if err := e.pool.Flush(context.Background()); err != nil {
			b.Fatal(fmt.Errorf("flush: %w", err))
		}
	})
}

// memUpstream answers in memory as benchUpstream does over loopback: 429
// with Retry-After for the tokens in limited, 200 otherwise.
type memUpstream struct{ limited map[string]bool }

var (
	memBody429 = []byte(`{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
	memBody200 = []byte(`{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`)
)

func (u memUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	status, body := http.StatusOK, memBody200
	h := http.Header{"Content-Type": {"application/json"}}
	if u.limited[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		status, body = http.StatusTooManyRequests, memBody429
		h["Retry-After"] = []string{"30"}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

// BenchmarkRotateInMemory is BenchmarkRotate over an upstream that answers
// in memory: without the network's share and its noise, what the rotation
// itself costs. bare sends the same four requests straight to it.
func BenchmarkRotateInMemory(b *testing.B) {
	up := memUpstream{limited: map[string]bool{"tok1": true, "tok2": true, "tok3": true}}
	b.Run("bare", func(b *testing.B) {
		c := &http.Client{Transport: up}
		b.ReportAllocs()
		for b.Loop() {
			for i := 1; i <= 4; i++ {
				req, err := http.NewRequest("POST", "http://upstream.invalid/v1", strings.NewReader(benchBody))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer tok"+strconv.Itoa(i))
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	})
	b.Run("ratelimited=3", func(b *testing.B) {
		e := newEnv(b, envOpt{accounts: 4, poolOpts: []pool.Option{pool.WithWriteBehind(), pool.WithRelistInterval(0)}, trOpts: []Option{WithOrigins("http://upstream.invalid")}})
		e.tr.cfg.base = up
		b.ReportAllocs()
		for b.Loop() {
			benchDo(b, e.client, "http://upstream.invalid/v1", "")
			e.clock.Advance(31 * time.Second)
		}
	})
}
