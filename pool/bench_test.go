package pool_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/authvault/authvault/pool"
)

// BenchmarkAcquire measures the hot path: Acquire, then Report a success,
// on a pool whose state is loaded and unchanged, with the default options
// (fill-first, system clock).
func BenchmarkAcquire(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			m := newMemVault()
			m.put(accts(n)...)
			p, err := pool.Open(context.Background(), m.client(), testKey)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				l, err := p.Acquire(ctx, pool.Hint{})
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Report(l, pool.Outcome{Kind: pool.Success, Status: 200}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAcquireVault is BenchmarkAcquire on a real vault: the check
// for another process's change is a stat of the state file.
func BenchmarkAcquireVault(b *testing.B) {
	labels := make([]string, 10)
	for i := range labels {
		labels[i] = fmt.Sprintf("acct-%05d", i)
	}
	rv := newRealVault(b, labels...)
	p := rv.pool(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l, err := p.Acquire(ctx, pool.Hint{})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Report(l, pool.Outcome{Kind: pool.Success, Status: 200}); err != nil {
			b.Fatal(err)
		}
	}
}
