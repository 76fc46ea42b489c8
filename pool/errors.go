package pool

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors a caller can branch on with errors.Is.
var (
	// ErrNoAccounts: the vault holds no account for the pool's provider
	// and namespace.
	ErrNoAccounts = errors.New("no accounts")
	// ErrClosed: the pool was closed.
	ErrClosed = errors.New("pool is closed")
	// ErrUnknownAccount: the id names no account of this pool.
	ErrUnknownAccount = errors.New("no such account in the pool")
	// ErrForeignLease: Report was given a nil lease or one another pool
	// handed out.
	ErrForeignLease = errors.New("lease is nil or from another pool")
	// ErrCorruptState: the pool state blob decrypted but is not a valid
	// pool state. The pool starts from a clean state.
	ErrCorruptState = errors.New("pool state is corrupt")
	// ErrNewerState: the pool state was written by a newer authvault. The
	// pool runs from a clean state in memory and does not overwrite it.
	ErrNewerState = errors.New("pool state was written by a newer version")
)

// ExhaustedError is returned by Acquire when the pool has accounts but
// none can serve a request now.
type ExhaustedError struct {
	Key Key
	// Soonest is when the first cooling account becomes ready again, or
	// an unreadable one is tried again (UnreadableRecheck). It is zero
	// when no account will become ready by itself: every account is
	// disabled or needs a login.
	Soonest time.Time
	// Reasons counts the accounts by why they cannot serve.
	Reasons map[Availability]int
}

// Error says how many accounts are out for which reason, and when the
// first comes back.
func (e *ExhaustedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pool %s: no account ready", e.Key)
	sep := ": "
	for _, av := range []Availability{Cooling, Unreadable, Disabled, ReauthNeeded} {
		if n := e.Reasons[av]; n > 0 {
			fmt.Fprintf(&b, "%s%d %s", sep, n, av)
			sep = ", "
		}
	}
	if e.Soonest.IsZero() {
		b.WriteString("; none becomes ready without an operator")
	} else {
		fmt.Fprintf(&b, "; next ready at %s", e.Soonest.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// stateError reports a pool state blob that could not be read (tampered,
// corrupt, written by a newer version), a state write that failed, or a
// vault listing that failed. The pool keeps serving from what it has.
type stateError struct {
	Key  Key
	Name string // the vault state blob's name
	Op   string // "read", "write" or "list"
	Err  error  // wraps vault.ErrTampered, ErrCorruptState, ErrNewerState…
}

// Error names the pool, the operation and the blob, and says the pool
// went on from a clean state when it did.
func (e *stateError) Error() string {
	s := fmt.Sprintf("pool %s: %s state %q: %v", e.Key, e.Op, e.Name, e.Err)
	if e.Op == "read" && !errors.Is(e.Err, ErrNewerState) {
		s += " (starting from a clean pool state; the credentials are untouched)"
	}
	return s
}

func (e *stateError) Unwrap() error { return e.Err }
