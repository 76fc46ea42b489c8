package pool

import "time"

// Knobs the tests turn, through the config; users get the defaults.

const DefaultWriteTimeout = writeTimeout

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
// QuotaExhausted (default 7 days). A cap that is not
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

// WithStateErrorHandler is called with the error whenever the pool state
// cannot be read (tampered, corrupt, newer) or written, or the vault
// cannot be listed. The handler runs outside the pool's locks and may
// call the pool.
func WithStateErrorHandler(fn func(error)) Option { return func(c *config) { c.onStateError = fn } }

// StateError is the error Health and the handler report.
type StateError = stateError

// StateName names the state blob of a pool.
var StateName = stateName
