package pool

import (
	"fmt"
	"time"
)

// Strategy decides which ready account serves the next request.
type Strategy int

// The selection strategies.
const (
	// FillFirst uses the first ready account in the pool's order and moves
	// on only when it cools down. Staying on one account keeps the
	// provider's prompt cache warm. The default.
	FillFirst Strategy = iota
	// RoundRobin hands out ready accounts in turn, in the pool's order.
	RoundRobin
	// LeastRecentlyUsed hands out the ready account that was used longest
	// ago (by this process, or as last persisted by any process).
	LeastRecentlyUsed
)

var strategyNames = [...]string{"fill-first", "round-robin", "least-recently-used"}

// String returns the strategy's name.
func (s Strategy) String() string {
	if s >= 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// DefaultRateLimitHintCap caps how far a server's hint may put a
// rate-limited account out (an exhausted quota: 7 days).
const DefaultRateLimitHintCap = time.Hour

// How the pool behaves; tests change some through the config.
const (
	// A session stays on its account this long after its last use.
	affinityTTL = time.Hour
	// Rate limits without a hint back off from 1s, doubling up to 30min;
	// exhausted quotas from 1h up to 24h.
	backoffBase, backoffMax           = time.Second, 30 * time.Minute
	quotaBackoffBase, quotaBackoffMax = time.Hour, 24 * time.Hour
	// Counters are written at least this often while requests are reported.
	counterFlush = 15 * time.Second
	// Acquire lists the vault again this often (WithRelistInterval).
	relistInterval = 30 * time.Second
	// writeTimeout bounds a state write that has no context of its own
	// (Report, Close, Flush), the wait for the vault lock included.
	writeTimeout = 10 * time.Second
	// An exhausted quota's hint is honoured up to 7 days, the cap the
	// adapters' hint parsers apply too.
	quotaHintCap             = 7 * 24 * time.Hour
	defaultAffinitySweepSize = 64
)

type backoff struct {
	base, max time.Duration
}

// delay returns base·2^(step-1), capped at max.
func (b backoff) delay(step int) time.Duration {
	if step < 1 {
		step = 1
	}
	d := b.base
	for i := 1; i < step; i++ {
		if d >= b.max || d > b.max/2 {
			return b.max
		}
		d *= 2
	}
	return min(d, b.max)
}

type config struct {
	strategy      Strategy
	modelScope    bool // cool (account, model), not the whole account
	now           func() time.Time
	affinityTTL   time.Duration
	rate          backoff
	quota         backoff
	rateCap       time.Duration
	quotaCap      time.Duration
	flushEvery    int
	flushInterval time.Duration
	relist        time.Duration
	writeTimeout  time.Duration
	writeBehind   bool
	onStateError  func(error)
}

func defaultConfig() config {
	return config{
		strategy:      FillFirst,
		now:           time.Now,
		affinityTTL:   affinityTTL,
		rate:          backoff{backoffBase, backoffMax},
		quota:         backoff{quotaBackoffBase, quotaBackoffMax},
		rateCap:       DefaultRateLimitHintCap,
		quotaCap:      quotaHintCap,
		flushInterval: counterFlush,
		relist:        relistInterval,
		writeTimeout:  writeTimeout,
	}
}

// Option configures a Pool.
type Option func(*config)

// WithStrategy sets the selection strategy (default FillFirst).
func WithStrategy(s Strategy) Option { return func(c *config) { c.strategy = s } }

// WithClock injects the clock every cooldown and timestamp is read from
// (default time.Now). A transport on the pool reads the same (Pool.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithRelistInterval sets how often Acquire lists the vault again to find
// accounts added or removed without the pool state changing (default 30s;
// zero or negative: only at Open, on Refresh, and when another process's
// pool state names an account this process has not seen).
func WithRelistInterval(d time.Duration) Option { return func(c *config) { c.relist = d } }

// WithWriteBehind makes Report and Acquire leave the state write to the
// next Flush instead of making it: the outcome is in effect in this
// process at once, and in the shared state once the caller flushes. The
// transport flushes before RoundTrip returns, so one request that met
// several rate limits writes them once, a request that changed no
// account's availability writes nothing (the counters, once due, are
// written behind it), and a process that exits right after a 429 loses
// no cooldown. authvault.Open uses it.
func WithWriteBehind() Option { return func(c *config) { c.writeBehind = true } }

// WithModelScope makes a rate limit or an exhausted quota cool only
// (account, model): the account stays available for other models. An
// outcome without a Model uses the lease's Hint.Model; when that is empty
// too, the whole account cools. By default the whole account cools.
func WithModelScope() Option { return func(c *config) { c.modelScope = true } }
