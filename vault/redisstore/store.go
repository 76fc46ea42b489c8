package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authvault/authvault/vault"
)

// Store keeps a vault's sealed blobs in Redis. It implements
// vault.Store and vault.FencedStore; pass it to vault.Create or vault.Open
// with vault.WithStore. It is safe for concurrent use; one Store serves
// one vault.
//
// Keys, under the prefix P:
//
//	P:blob:<name>   hash: d = the sealed blob, v = version, n = size,
//	                f = fencing token of the lock it was written under
//	P:dir:<dir>     set of the blob names in <dir> ("records", "state", "")
//	P:seq           version counter: every write takes the next number
//	P:lock          the vault write lock; P:lock:<name> per-record locks
//	P:fence         fencing counter: every lock acquisition takes the next
type Store struct {
	rdb     *redis.Client
	addr    string
	db      int
	display string
	prefix  string
	lockTTL time.Duration
	timeout time.Duration

	seqKey, fenceKey, vaultLockKey string

	// held is the vault lock while this Store holds it: every write made
	// meanwhile is conditional on the lock still being held with its
	// token (the vault writes only under that lock).
	held atomic.Pointer[lease]

	mu     sync.Mutex
	sems   map[string]chan struct{} // in-process exclusion, per lock key
	leases map[*lease]struct{}      // locks held, for Close
	closed bool
}

var _ vault.FencedStore = (*Store)(nil)

// Open connects to the Redis server that rawURL names and returns the
// store for the vault under the URL's prefix:
//
//	redis://[user:password@]host:port/db?prefix=team-a
//	rediss://…                        (TLS)
//
// Options in the query: prefix (default "authvault"; letters, digits,
// '-', '_', '.'), lock_ttl (how long a lock outlives a holder that stops
// renewing it; default 10s), timeout (bound on each operation, dial, read
// and write; default 2s), and the go-redis connection options
// (pool_size, dial_timeout, read_timeout, …). Open pings the server:
// a server out of reach is an *UnavailableError. No error contains the
// password.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	c, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	s := &Store{
		rdb:          redis.NewClient(c.opts),
		addr:         c.opts.Addr,
		db:           c.opts.DB,
		display:      c.display,
		prefix:       c.prefix,
		lockTTL:      c.lockTTL,
		timeout:      c.timeout,
		seqKey:       c.prefix + ":seq",
		fenceKey:     c.prefix + ":fence",
		vaultLockKey: c.prefix + ":lock",
		sems:         map[string]chan struct{}{},
		leases:       map[*lease]struct{}{},
	}
	pctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Ping(pctx).Err(); err != nil {
		s.rdb.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.wrap(err)
	}
	return s, nil
}

// String returns the store's URL without the password, with its prefix.
// Pass it as the dir argument of vault.Create and vault.Open, which
// appears in their messages.
func (s *Store) String() string { return s.display }

// Addr returns the server's host:port.
func (s *Store) Addr() string { return s.addr }

// Prefix returns the key prefix of this store's vault.
func (s *Store) Prefix() string { return s.prefix }

func (s *Store) op() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

func (s *Store) blobKey(name string) string { return s.prefix + ":blob:" + name }

func (s *Store) dirKey(dir string) string { return s.prefix + ":dir:" + dir }

func dirOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// checkName refuses names the directory store could not hold either, so
// that List sees every blob and a copy to a directory cannot fail on them.
func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") ||
		strings.Contains(name, "//") || strings.ContainsAny(name, "\x00\\") {
		return fmt.Errorf("redisstore: invalid blob name %q", name)
	}
	return nil
}

func notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

// Read returns the blob called name; a missing one is fs.ErrNotExist.
func (s *Store) Read(name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	ctx, cancel := s.op()
	defer cancel()
	b, err := s.rdb.HGet(ctx, s.blobKey(name), "d").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, notExist("read", name)
	}
	if err != nil {
		return nil, s.wrap(err)
	}
	return b, nil
}

// Stamp returns the blob's version (unique across the store's blobs and
// writes) and size, in one round trip.
func (s *Store) Stamp(name string) (vault.Stamp, error) {
	if err := checkName(name); err != nil {
		return vault.Stamp{}, err
	}
	ctx, cancel := s.op()
	defer cancel()
	vals, err := s.rdb.HMGet(ctx, s.blobKey(name), "v", "n").Result()
	if err != nil {
		return vault.Stamp{}, s.wrap(err)
	}
	if len(vals) != 2 || vals[0] == nil {
		return vault.Stamp{}, notExist("stamp", name)
	}
	var st vault.Stamp
	v, _ := vals[0].(string)
	n, _ := vals[1].(string)
	if st.Version, err = strconv.ParseUint(v, 10, 64); err != nil {
		return vault.Stamp{}, fmt.Errorf("redisstore: %s: malformed version: %w", name, vault.ErrCorrupt)
	}
	if st.Size, err = strconv.ParseInt(n, 10, 64); err != nil {
		return vault.Stamp{}, fmt.Errorf("redisstore: %s: malformed size: %w", name, vault.ErrCorrupt)
	}
	return st, nil
}

// writeScript replaces a blob and its directory entry in one step. When a
// lock token is given it first checks that the vault lock still holds it
// and that no later lock holder wrote the blob (fencing); when an expected
// version is given, that the blob is at that version ("0": absent). It
// answers the new version, -1 for a lost lock, -2 for a conflict.
var writeScript = redis.NewScript(`
-- KEYS: blob, dir set, version counter, vault lock
-- ARGV: data, name, lock token or '', fence, expected version or ''
if ARGV[3] ~= '' then
  if redis.call('GET', KEYS[4]) ~= ARGV[3] then return -1 end
  local f = redis.call('HGET', KEYS[1], 'f')
  if f and tonumber(f) > tonumber(ARGV[4]) then return -1 end
end
if ARGV[5] ~= '' then
  local cur = redis.call('HGET', KEYS[1], 'v')
  if (cur or '0') ~= ARGV[5] then
    -- A retried call whose first answer was lost finds its own bytes
    -- (sealed blobs carry a random nonce): it succeeded.
    if cur and redis.call('HGET', KEYS[1], 'd') == ARGV[1] then return tonumber(cur) end
    return -2
  end
end
local v = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'v', v, 'n', string.len(ARGV[1]), 'f', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
return v
`)

// removeScript deletes a blob and its directory entry, fenced like
// writeScript.
var removeScript = redis.NewScript(`
-- KEYS: blob, dir set, vault lock
-- ARGV: name, lock token or '', fence
if ARGV[2] ~= '' then
  if redis.call('GET', KEYS[3]) ~= ARGV[2] then return -1 end
  local f = redis.call('HGET', KEYS[1], 'f')
  if f and tonumber(f) > tonumber(ARGV[3]) then return -1 end
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`)

// fence returns the token and fencing number that writes must carry: the
// vault lock's while this Store holds it, none otherwise.
func (s *Store) fence() (token, number string, err error) {
	l := s.held.Load()
	if l == nil {
		return "", "0", nil
	}
	if l.lost.Load() {
		return "", "", ErrLockLost
	}
	return l.token, strconv.FormatInt(l.fence, 10), nil
}

func (s *Store) lockLost(op, name string) error {
	if l := s.held.Load(); l != nil {
		l.lost.Store(true)
	}
	return fmt.Errorf("redisstore: %s %s: %w", op, name, ErrLockLost)
}

// Write replaces the blob atomically: readers see the old blob or the new
// one. Made while this Store holds the vault lock, it succeeds only if
// the lock is still held (else ErrLockLost). How durable it is after it
// returns is the server's persistence setting (appendonly and
// appendfsync).
func (s *Store) Write(name string, data []byte) error {
	return s.write(name, data, "")
}

// WriteIf is Write on condition that the blob is still the version prev
// was taken from (zero: that it does not exist); otherwise it writes
// nothing and returns an error wrapping vault.ErrConflict. A blob that
// already holds exactly data is a success: the same call, retried after
// its first answer was lost (sealed blobs differ in their random nonce,
// so no other writer produces the same bytes).
func (s *Store) WriteIf(name string, data []byte, prev vault.Stamp) error {
	return s.write(name, data, strconv.FormatUint(prev.Version, 10))
}

func (s *Store) write(name string, data []byte, expect string) error {
	if err := checkName(name); err != nil {
		return err
	}
	token, number, err := s.fence()
	if err != nil {
		return fmt.Errorf("redisstore: writing %s: %w", name, err)
	}
	ctx, cancel := s.op()
	defer cancel()
	keys := []string{s.blobKey(name), s.dirKey(dirOf(name)), s.seqKey, s.vaultLockKey}
	n, err := writeScript.Run(ctx, s.rdb, keys, data, name, token, number, expect).Int64()
	switch {
	case err != nil:
		return s.wrap(err)
	case n == -1:
		return s.lockLost("writing", name)
	case n == -2:
		return fmt.Errorf("redisstore: writing %s: %w", name, vault.ErrConflict)
	}
	return nil
}

// Remove deletes a blob; a missing one is not an error. It is fenced by
// the vault lock like Write.
func (s *Store) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	token, number, err := s.fence()
	if err != nil {
		return fmt.Errorf("redisstore: removing %s: %w", name, err)
	}
	ctx, cancel := s.op()
	defer cancel()
	keys := []string{s.blobKey(name), s.dirKey(dirOf(name)), s.vaultLockKey}
	n, err := removeScript.Run(ctx, s.rdb, keys, name, token, number).Int64()
	if err != nil {
		return s.wrap(err)
	}
	if n == -1 {
		return s.lockLost("removing", name)
	}
	return nil
}

// List returns the names of the blobs in dir ("records", "state"; "" for
// the top level), sorted.
func (s *Store) List(dir string) ([]string, error) {
	if strings.HasSuffix(dir, "/") {
		return nil, fmt.Errorf("redisstore: invalid directory %q", dir)
	}
	ctx, cancel := s.op()
	defer cancel()
	names, err := s.rdb.SMembers(ctx, s.dirKey(dir)).Result()
	if err != nil {
		return nil, s.wrap(err)
	}
	slices.Sort(names)
	return names, nil
}

// Close stops renewing the locks still held (they expire after the lock
// TTL) and closes the connections. Operations after Close fail with an
// error wrapping vault.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	held := make([]*lease, 0, len(s.leases))
	for l := range s.leases {
		held = append(held, l)
	}
	s.mu.Unlock()
	for _, l := range held {
		l.halt()
	}
	return s.rdb.Close()
}
