package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/authvault/authvault/vault"
)

// ErrLockLost: a write made under the vault lock found that this Store no
// longer holds it. The lock expired while its holder was paused or cut
// off from Redis for longer than the lock TTL, and another writer may
// have committed since; the write was refused whole. The operation may be
// tried again: it re-reads the vault under a new lock.
var ErrLockLost = errors.New("the vault lock expired before this write; nothing was written")

// UnavailableError reports that the Redis server could not be reached or
// did not answer in time (down, restarting, loading its data, or a replica
// that cannot take writes). The operation had no effect, or for a write
// whose answer was lost, had it whole; trying again once the server is
// back is safe.
type UnavailableError struct {
	// Addr is the server's host:port. It never holds credentials.
	Addr string
	// Err is the cause from the network or the Redis client.
	Err error
}

func (e *UnavailableError) Error() string {
	return "redis at " + e.Addr + " unavailable: " + e.Err.Error()
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// wrap turns a Redis client error into one of the package's: the vault's
// ErrClosed after Close, *UnavailableError for the server being out of
// reach, otherwise the cause with the address.
func (s *Store) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.ErrClosed):
		return fmt.Errorf("redisstore: %w", vault.ErrClosed)
	case unavailable(err):
		return &UnavailableError{Addr: s.addr, Err: err}
	default:
		return fmt.Errorf("redisstore: redis at %s: %w", s.addr, err)
	}
}

func unavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.As(err, &ne),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded), // the operation's own timeout
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted),
		redis.IsLoadingError(err),
		redis.IsReadOnlyError(err),
		redis.IsMasterDownError(err),
		redis.IsClusterDownError(err),
		redis.IsTryAgainError(err),
		redis.IsMaxClientsError(err),
		redis.HasErrorPrefix(err, "BUSY"):
		return true
	}
	return false
}
