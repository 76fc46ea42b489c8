package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authvault/authvault/pool"
)

// benchUpstream answers 429 for the tokens in limited and 200 otherwise,
// with a small JSON body like a provider's.
func benchUpstream(b *testing.B, limited map[string]bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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

func benchDo(b *testing.B, c *http.Client, url string) {
	resp, err := c.Post(url, "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		srv := benchUpstream(b, nil)
		base := http.DefaultTransport.(*http.Transport).Clone()
		defer base.CloseIdleConnections()
		c := &http.Client{Transport: base}
		b.ReportAllocs()
		for b.Loop() {
			benchDo(b, c, srv.URL)
		}
	})
	b.Run("authvault", func(b *testing.B) {
		srv := benchUpstream(b, nil)
		e := newEnv(b, envOpt{accounts: 4, poolOpts: []pool.Option{pool.WithWriteBehind()}})
		base := http.DefaultTransport.(*http.Transport).Clone()
		defer base.CloseIdleConnections()
		e.tr.cfg.base = base
		b.ReportAllocs()
		for b.Loop() {
			benchDo(b, e.client, srv.URL)
		}
	})
}

// BenchmarkRotate: the first three accounts answer 429, the fourth serves.
// The clock advances past the cooldowns between iterations so every
// request meets the same three rate limits.
func BenchmarkRotate(b *testing.B) {
	b.Run("ratelimited=3", func(b *testing.B) {
		srv := benchUpstream(b, map[string]bool{"tok1": true, "tok2": true, "tok3": true})
		e := newEnv(b, envOpt{accounts: 4, poolOpts: []pool.Option{pool.WithWriteBehind()}})
		base := http.DefaultTransport.(*http.Transport).Clone()
		defer base.CloseIdleConnections()
		e.tr.cfg.base = base
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			benchDo(b, e.client, srv.URL)
			b.StopTimer()
			e.clock.Advance(31 * 1e9)
			if err := e.pool.Flush(ctx); err != nil {
				b.Fatal(fmt.Errorf("flush: %w", err))
			}
			b.StartTimer()
		}
	})
}
