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

// String returns the strategy's name as ParseStrategy accepts it.
func (s Strategy) String() string {
	if s >= 0 && int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

// ParseStrategy parses "fill-first", "round-robin" or
// "least-recently-used" (also "lru").
func ParseStrategy(s string) (Strategy, error) {
	for i, n := range strategyNames {
		if s == n {
			return Strategy(i), nil
		}
	}
	if s == "lru" {
		return LeastRecentlyUsed, nil
	}
	return 0, fmt.Errorf("pool: unknown strategy %q (want fill-first, round-robin or least-recently-used)", s)
}

// Scope says what a rate limit or quota cools down.
type Scope int

// The cooldown scopes.
const (
	// ScopeAccount cools the whole account, whatever model it was used
	// for. The default.
	ScopeAccount Scope = iota
	// ScopeModel cools only (account, model): the account stays available
	// for other models. Providers with per-model limits (Google) benefit.
	// An outcome without a Model uses the lease's Hint.Model; when that is
	// empty too, the whole account cools.
	ScopeModel
)

// Defaults for the options.
const (
	DefaultAffinityTTL       = time.Hour
	DefaultBackoffBase       = time.Second
	DefaultBackoffMax        = 30 * time.Minute
	DefaultQuotaBackoffBase  = time.Hour
	DefaultQuotaBackoffMax   = 24 * time.Hour
	DefaultRateLimitHintCap  = time.Hour
	DefaultQuotaHintCap      = MaxRetryAfter
	DefaultCounterFlush      = 15 * time.Second
	DefaultRelistInterval    = 30 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
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
	scope         Scope
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
		scope:         ScopeAccount,
		now:           time.Now,
		affinityTTL:   DefaultAffinityTTL,
		rate:          backoff{DefaultBackoffBase, DefaultBackoffMax},
		quota:         backoff{DefaultQuotaBackoffBase, DefaultQuotaBackoffMax},
		rateCap:       DefaultRateLimitHintCap,
		quotaCap:      DefaultQuotaHintCap,
		flushInterval: DefaultCounterFlush,
		relist:        DefaultRelistInterval,
		writeTimeout:  DefaultWriteTimeout,
	}
}

// Option configures a Pool.
type Option func(*config)

// WithStrategy sets the selection strategy (default FillFirst).
func WithStrategy(s Strategy) Option { return func(c *config) { c.strategy = s } }

// WithScope sets what a cooldown applies to (default ScopeAccount).
func WithScope(s Scope) Option { return func(c *config) { c.scope = s } }

// WithClock injects the clock every cooldown and timestamp is read from
// (default time.Now). A transport on the pool reads the same (Pool.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithAffinityTTL sets how long a session key stays bound to its account
// after its last use (default 1h). Zero or negative turns session affinity
// off.
func WithAffinityTTL(d time.Duration) Option { return func(c *config) { c.affinityTTL = d } }

// WithBackoff sets the exponential backoff for rate limits without a
// server hint: base for the first, doubling on each escalation, capped at
// limit (default 1s to 30min). A base that is not positive keeps the
// default.
func WithBackoff(base, limit time.Duration) Option {
	return func(c *config) {
		if base > 0 {
			c.rate = backoff{base, max(base, limit)}
		}
	}
}

// WithQuotaBackoff sets the backoff for exhausted quotas without a server
// hint (default 1h doubling, capped at 24h). A base that is not positive
// keeps the default.
func WithQuotaBackoff(base, limit time.Duration) Option {
	return func(c *config) {
		if base > 0 {
			c.quota = backoff{base, max(base, limit)}
		}
	}
}

// WithHintCaps caps how far in the future a server's hint may put an
// account: rateLimit for RateLimited (default 1h), quota for
// QuotaExhausted (default 7 days, MaxRetryAfter). A cap that is not
// positive keeps its default.
func WithHintCaps(rateLimit, quota time.Duration) Option {
	return func(c *config) {
		if rateLimit > 0 {
			c.rateCap = rateLimit
		}
		if quota > 0 {
			c.quotaCap = quota
		}
	}
}

// WithCounterFlush sets how request counters are batched: they are
// written after every n reported requests (0: no count trigger) or when
// interval has passed since the last write (0: no time trigger; default
// 15s), whichever comes first, and always on Close. The Report that
// completes a batch makes the write; an idle pool writes nothing.
// Cooldowns, flags and order are written at once whatever this says.
func WithCounterFlush(n int, interval time.Duration) Option {
	return func(c *config) { c.flushEvery, c.flushInterval = n, interval }
}

// WithRelistInterval sets how often Acquire lists the vault again to find
// accounts added or removed without the pool state changing (default 30s;
// zero or negative: only at Open, on Refresh, and when another process's
// pool state names an account this process has not seen).
func WithRelistInterval(d time.Duration) Option { return func(c *config) { c.relist = d } }

// WithWriteTimeout bounds the state writes of Report and Close, which
// take no context (default 10s), the wait for the vault lock included. A
// duration that is not positive keeps the default.
func WithWriteTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.writeTimeout = d
		}
	}
}

// WithStateErrorHandler is called with a *StateError whenever the pool
// state cannot be read (tampered, corrupt, newer) or written, or the vault
// cannot be listed. The pool goes on either way; Health reports the state
// errors too. The handler runs outside the pool's locks and may call the
// pool.
func WithStateErrorHandler(fn func(error)) Option { return func(c *config) { c.onStateError = fn } }

// WithWriteBehind makes Report and Acquire leave the state write to the
// next Flush instead of making it: the outcome is in effect in this
// process at once, and in the shared state once the caller flushes. The
// transport flushes before RoundTrip returns, so one request that met
// several rate limits writes them once, a request that changed no
// account's availability writes nothing (but the counters when they are
// due), and a process that exits right after a 429 loses no cooldown.
// authvault.Open uses it.
func WithWriteBehind() Option { return func(c *config) { c.writeBehind = true } }
