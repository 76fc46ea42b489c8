//go:build unix

package redisstore_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/authvault/authvault/records"
)

// A replica holding the vault lock is paused (SIGSTOP) past the lock's
// TTL; another replica takes the lock and commits; the first is resumed
// and tries to commit on its stale read. Its commit is refused with
// ErrLockLost, nothing of it is written, and the newer commit stands.
func TestStaleLockHolderCannotCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	ctx := context.Background()
	raw := sharedURL(t, "lock_ttl=1s")
	id := newIdentity(t)
	v := createVault(t, raw, id)
	putCounter(t, v)

	a := startChild(t, helperCmd("stall", raw, id))
	if got := a.read(); got != "locked" {
		t.Fatalf("replica A: %q", got)
	}
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			a.cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	defer resume()

	// Replica B waits for A's lock to lapse (A cannot renew it while
	// stopped), then commits.
	b := openVault(t, raw, id)
	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := b.Update(bctx, counterID, func(r *records.Record) error {
		r.Meta["count"] = "100"
		return nil
	}); err != nil {
		t.Fatalf("replica B's commit: %v", err)
	}

	resume()
	if got := a.ask("go"); got != "lock lost" {
		t.Fatalf("replica A after resuming: %q, want its commit refused with ErrLockLost", got)
	}
	a.wait()

	if got := count(t, openVault(t, raw, id)); got != 100 {
		t.Fatalf("count = %d, want 100 (B's commit); the stale holder overwrote it", got)
	}
	rep, err := b.Verify(ctx)
	if err != nil || rep.Orphans != 0 {
		t.Fatalf("Verify: %+v %v (the stale holder must have written nothing)", rep, err)
	}
	if recs, _ := openStore(t, raw).List("records"); len(recs) != 1 {
		t.Errorf("record blobs %v, want only B's", recs)
	}
}
