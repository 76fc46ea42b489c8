package bench

import (
	"context"
	"testing"
	"time"
)

// sender is one alternative's way of sending the chat request.
type sender interface {
	send() (status int, err error)
}

// loop sends one request per iteration, between (untimed) calls of
// between, and reports how many upstream requests each took.
func loop(b *testing.B, up *upstream, s sender, between func() error) {
	b.Helper()
	start := up.requests.Load()
	b.ReportAllocs()
	for b.Loop() {
		status, err := s.send()
		if err != nil {
			b.Fatal(err)
		}
		if status != 200 {
			b.Fatalf("status %d, want 200", status)
		}
		if between != nil {
			b.StopTimer()
			if err := between(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(up.requests.Load()-start)/float64(b.N), "upstream/op")
}

// BenchmarkRateLimited sends a request that meets a rate-limited
// account: the provider answers the first key 429 with Retry-After: 1.
// authvault's transport has two accounts and sends the request again with
// the second at once; go-retryablehttp has the one key and waits out the
// second before sending again with it. Both end with a 200: the time per
// op is the time to success. The clock is the real one.
func BenchmarkRateLimited(b *testing.B) {
	ctx := context.Background()
	b.Run("authvault", func(b *testing.B) {
		up := newUpstream(b, time.Now, key1, key2)
		f := newFailover(b, up)
		up.limitNext(key1)
		loop(b, up, f, func() error {
			up.limitNext(key1)
			return f.recover(ctx)
		})
	})
	b.Run("retryablehttp", func(b *testing.B) {
		up := newUpstream(b, time.Now, key1)
		r := newRetrying(b, up, key1)
		up.limitNext(key1)
		loop(b, up, r, func() error {
			up.limitNext(key1)
			return nil
		})
	})
}

// BenchmarkSuccess sends a request that succeeds at once: what the
// transport (lease, authorize a clone, classify, report) adds to bare
// net/http over loopback. go-retryablehttp is shown for reference.
func BenchmarkSuccess(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		up := newUpstream(b, time.Now, key1)
		loop(b, up, newBare(b, up, key1), nil)
	})
	b.Run("authvault", func(b *testing.B) {
		up := newUpstream(b, time.Now, key1, key2)
		loop(b, up, newFailover(b, up), nil)
	})
	b.Run("retryablehttp", func(b *testing.B) {
		up := newUpstream(b, time.Now, key1)
		loop(b, up, newRetrying(b, up, key1), nil)
	})
}
