package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authvault/authvault/vault"
)

// lease is one holding of a lock: its token ("<fence>:<nonce>"), the
// goroutine that renews it, and whether Redis said it was lost.
type lease struct {
	key      string
	token    string
	fence    int64
	lost     atomic.Bool
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// halt stops the renewal and waits for it.
func (l *lease) halt() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

// acquireScript takes a free lock with a new fencing number. A retried
// call (its answer lost) finds its own nonce and succeeds again; a busy
// lock answers with the holder's remaining time, to bound the wait.
var acquireScript = redis.NewScript(`
-- KEYS: lock, fence counter; ARGV: nonce, ttl ms
local cur = redis.call('GET', KEYS[1])
if cur then
  if string.sub(cur, -string.len(ARGV[1])) == ARGV[1] then return {1, cur} end
  return {0, redis.call('PTTL', KEYS[1])}
end
local tok = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], tok, 'PX', ARGV[2])
return {1, tok}
`)

// renewScript extends a lock its caller still holds.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// releaseScript deletes a lock only for its holder: a holder whose lock
// expired and was taken by another cannot release the other's.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

const (
	minPoll = 2 * time.Millisecond
	maxPoll = 50 * time.Millisecond
)

func (s *Store) lockKey(name string) string {
	if name == "" {
		return s.vaultLockKey
	}
	return s.vaultLockKey + ":" + name
}

// sem returns the in-process semaphore for a lock key: goroutines of one
// process queue on it instead of polling Redis.
func (s *Store) sem(key string) (chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("redisstore: %w", vault.ErrClosed)
	}
	c := s.sems[key]
	if c == nil {
		c = make(chan struct{}, 1)
		s.sems[key] = c
	}
	return c, nil
}

// Lock takes the lock called name ("" is the vault's write lock, others
// per-record locks) with SET NX PX and a random token, waiting until ctx
// ends (vault.ErrLockTimeout) by polling with backoff. While held it is
// renewed every third of the lock TTL; a holder that stops (a paused
// process) loses it after the TTL, and then its writes fail with
// ErrLockLost. The returned function releases the lock if this holder
// still owns it. A server out of reach is an *UnavailableError at once,
// not a wait.
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	if strings.ContainsAny(name, "\x00") {
		return nil, fmt.Errorf("redisstore: invalid lock name %q", name)
	}
	key := s.lockKey(name)
	sem, err := s.sem(key)
	if err != nil {
		return nil, err
	}
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, s.lockTimeout(name, ctx.Err())
	}
	l, err := s.acquire(ctx, name, key)
	if err != nil {
		<-sem
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.release(l)
		<-sem
		return nil, fmt.Errorf("redisstore: %w", vault.ErrClosed)
	}
	s.leases[l] = struct{}{}
	s.mu.Unlock()
	if name == "" {
		s.held.Store(l)
	}
	go s.renew(l)
	var once sync.Once
	return func() {
		once.Do(func() {
			l.halt()
			if name == "" {
				s.held.CompareAndSwap(l, nil)
			}
			s.release(l)
			s.mu.Lock()
			delete(s.leases, l)
			s.mu.Unlock()
			<-sem
		})
	}, nil
}

func (s *Store) lockTimeout(name string, cause error) error {
	what := "vault lock"
	if name != "" {
		what = "lock " + name
	}
	return fmt.Errorf("%w (redis %s, %s: %v)", vault.ErrLockTimeout, s.display, what, cause)
}

func (s *Store) acquire(ctx context.Context, name, key string) (*lease, error) {
	var nb [16]byte
	if _, err := rand.Read(nb[:]); err != nil {
		panic("authvault: crypto/rand failed: " + err.Error())
	}
	nonce := hex.EncodeToString(nb[:])
	ttl := strconv.FormatInt(s.lockTTL.Milliseconds(), 10)
	poll := minPoll
	for {
		// The call itself is bounded by the store's timeout, not by ctx:
		// an acquisition whose answer was abandoned halfway would hold
		// the lock for a whole TTL with nobody to release it.
		octx, cancel := s.op()
		res, err := acquireScript.Run(octx, s.rdb, []string{key, s.fenceKey}, nonce, ttl).Slice()
		cancel()
		if err != nil {
			return nil, s.wrap(err)
		}
		if len(res) != 2 {
			return nil, fmt.Errorf("redisstore: unexpected lock reply from %s", s.addr)
		}
		if ok, _ := res[0].(int64); ok == 1 {
			token, _ := res[1].(string)
			fence, err := strconv.ParseInt(token[:max(strings.IndexByte(token, ':'), 0)], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("redisstore: malformed lock token at %s", s.addr)
			}
			return &lease{key: key, token: token, fence: fence, stop: make(chan struct{}), done: make(chan struct{})}, nil
		}
		// Busy: wait with backoff, never past the holder's expiry, with
		// jitter so that waiting processes do not poll in step.
		wait := poll
		if pttl, _ := res[1].(int64); pttl > 0 && time.Duration(pttl)*time.Millisecond < wait {
			wait = time.Duration(pttl) * time.Millisecond
		}
		wait = wait/2 + mrand.N(wait/2+1)
		poll = min(poll*2, maxPoll)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, s.lockTimeout(name, ctx.Err())
		case <-t.C:
		}
	}
}

// renew extends the lock every third of its TTL until halted. A definite
// "not yours" from Redis marks the lease lost, so that writes fail at
// once; an unreachable server is tried again at the next tick, and if the
// lock expired meanwhile the next write finds out.
func (s *Store) renew(l *lease) {
	defer close(l.done)
	t := time.NewTicker(s.lockTTL / 3)
	defer t.Stop()
	ttl := strconv.FormatInt(s.lockTTL.Milliseconds(), 10)
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := s.op()
		n, err := renewScript.Run(ctx, s.rdb, []string{l.key}, l.token, ttl).Int64()
		cancel()
		if err == nil && n == 0 {
			l.lost.Store(true)
			return
		}
	}
}

// release deletes the lock if this lease still owns it. A failure is
// ignored: the lock then expires after its TTL.
func (s *Store) release(l *lease) {
	ctx, cancel := s.op()
	defer cancel()
	_ = releaseScript.Run(ctx, s.rdb, []string{l.key}, l.token).Err()
}
