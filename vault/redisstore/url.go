package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultPrefix is the key prefix used when the URL names none.
const DefaultPrefix = "authvault"

const (
	defaultLockTTL = 10 * time.Second
	defaultTimeout = 2 * time.Second
	minLockTTL     = 100 * time.Millisecond
	maxPrefixLen   = 64
)

// isURL reports whether s is a redis:// or rediss:// URL.
func isURL(s string) bool {
	for _, scheme := range []string{"redis://", "rediss://"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			return true
		}
	}
	return false
}

// config is what Open takes from the URL.
type config struct {
	opts    *redis.Options
	prefix  string
	lockTTL time.Duration
	timeout time.Duration
	display string // the URL without its password
}

// parseURL reads redis://[user:pass@]host:port/db?prefix=…&lock_ttl=…&timeout=…
// plus the go-redis connection options (dial_timeout, pool_size, …). No
// error it returns contains the password.
func parseURL(raw string) (*config, error) {
	if !isURL(raw) {
		return nil, errors.New("redisstore: not a redis:// or rediss:// URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// *url.Error repeats the whole input, password included.
		return nil, errors.New("redisstore: malformed redis URL")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	password, _ := u.User.Password()
	c := &config{prefix: DefaultPrefix, lockTTL: defaultLockTTL, timeout: defaultTimeout}
	q := u.Query()
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, fmt.Errorf("redisstore: URL option %q given %d times", k, len(vs))
		}
	}
	if q.Has("prefix") {
		c.prefix = q.Get("prefix")
		q.Del("prefix")
		if err := validPrefix(c.prefix); err != nil {
			return nil, err
		}
	}
	if c.lockTTL, err = durationOption(q, "lock_ttl", defaultLockTTL); err != nil {
		return nil, err
	}
	if c.lockTTL < minLockTTL {
		return nil, fmt.Errorf("redisstore: lock_ttl %v is below the minimum %v", c.lockTTL, minLockTTL)
	}
	if c.timeout, err = durationOption(q, "timeout", defaultTimeout); err != nil {
		return nil, err
	}
	if c.timeout <= 0 {
		return nil, errors.New("redisstore: timeout must be positive")
	}
	explicit := map[string]bool{}
	for _, k := range []string{"dial_timeout", "read_timeout", "write_timeout", "max_retries", "protocol"} {
		explicit[k] = q.Has(k)
	}
	c.display = redacted(u, c.prefix)

	rest := *u
	rest.RawQuery = q.Encode()
	c.opts, err = redis.ParseURL(rest.String())
	if err != nil {
		msg := err.Error()
		if password != "" {
			msg = strings.ReplaceAll(msg, password, "xxxxx")
		}
		return nil, fmt.Errorf("redisstore: %s: %s", c.display, msg)
	}
	o := c.opts
	// Fail fast: a vault operation waits at most about one timeout for a
	// server that is down or stuck, and retries once (a pooled
	// connection that died with a server restart), never indefinitely.
	if !explicit["dial_timeout"] {
		o.DialTimeout = c.timeout
	}
	if !explicit["read_timeout"] {
		o.ReadTimeout = c.timeout
	}
	if !explicit["write_timeout"] {
		o.WriteTimeout = c.timeout
	}
	if !explicit["max_retries"] {
		o.MaxRetries = 1
	}
	o.DialerRetries = 1
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return c, nil
}

func durationOption(q url.Values, name string, def time.Duration) (time.Duration, error) {
	if !q.Has(name) {
		return def, nil
	}
	s := q.Get(name)
	q.Del(name)
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("redisstore: URL option %s=%q is not a duration (e.g. 10s)", name, s)
	}
	return d, nil
}

// validPrefix keeps prefixes to characters that cannot make one vault's
// keys look like another's (no ':', the separator).
func validPrefix(p string) error {
	if p == "" || len(p) > maxPrefixLen {
		return fmt.Errorf("redisstore: prefix must be 1 to %d characters", maxPrefixLen)
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("redisstore: prefix %q: only letters, digits, '-', '_' and '.' are allowed", p)
		}
	}
	return nil
}

// redacted is u without its password and connection options, with the
// prefix: what messages and Vault.Dir show.
func redacted(u *url.URL, prefix string) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.User != nil && u.User.Username() != "" {
		r.User = url.User(u.User.Username())
	}
	r.RawQuery = url.Values{"prefix": {prefix}}.Encode()
	return r.String()
}
