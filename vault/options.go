package vault

import "time"

// Option configures Create and Open.
type Option func(*options)

type options struct {
	store       Store
	insecure    bool
	now         func() time.Time
	lockTimeout time.Duration
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now, lockTimeout: 30 * time.Second}
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

// WithStore makes the vault keep its blobs in s instead of the directory.
// The dir argument of Create and Open is then only used in messages.
func WithStore(s Store) Option { return func(o *options) { o.store = s } }

// InsecurePermissions accepts vault files and directories that other users
// can read, for filesystems that cannot hold Unix modes. Symlinks are
// still refused.
func InsecurePermissions() Option { return func(o *options) { o.insecure = true } }

// WithClock sets the clock used for Created and Updated times.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLockTimeout bounds how long a write waits for the vault lock when
// its context has no deadline (default 30 s).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }
