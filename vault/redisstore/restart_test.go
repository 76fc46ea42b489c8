package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

// The server is killed (SIGKILL) while a writer is busy and restarted on
// the same port: meanwhile every operation fails fast with an
// *UnavailableError naming the address and not the password; afterwards
// operations succeed again, every acknowledged write is there, and the
// vault verifies clean.
func TestServerKilledAndRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server")
	}
	const password = "restart-test-pw-91f3"
	srv := startServer(t, "--appendonly", "yes", "--appendfsync", "always", "--requirepass", password)
	raw := fmt.Sprintf("redis://:%s@%s/0?prefix=restart&timeout=500ms&lock_ttl=2s", password, srv.addr())
	ctx := context.Background()
	id := newIdentity(t)
	v := createVault(t, raw, id)
	putCounter(t, v)
	reader := openVault(t, raw, id)

	// A writer increments the counter until stopped, counting the
	// increments acknowledged and the attempts that failed (a failed
	// attempt may still have committed: its answer can be lost).
	var mu sync.Mutex
	acked, failed := 0, 0
	var firstErr error
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := v.Update(ctx, counterID, increment)
			mu.Lock()
			if err == nil {
				acked++
			} else {
				failed++
				if firstErr == nil {
					firstErr = err
				}
			}
			mu.Unlock()
			if err != nil {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	waitFor(t, "writes before the kill", func() bool { mu.Lock(); defer mu.Unlock(); return acked >= 20 })

	srv.kill()
	waitFor(t, "the writer to notice", func() bool { mu.Lock(); defer mu.Unlock(); return failed > 0 })

	// While down: typed, fast, no password.
	for name, op := range map[string]func() error{
		"Get": func() error {
			_, err := reader.Get(ctx, records.ID{Provider: "test", Namespace: "default", Label: "other"})
			return err
		},
		"Update": func() error { _, err := reader.Update(ctx, counterID, increment); return err },
		"List":   func() error { _, err := reader.List(ctx, vault.Filter{}); return err },
		"Open":   func() error { _, err := openVaultErr(raw, id); return err },
	} {
		start := time.Now()
		err := op()
		var ue *redisstore.UnavailableError
		if !errors.As(err, &ue) || ue.Addr != srv.addr() {
			t.Errorf("%s while down: %v, want *UnavailableError for %s", name, err, srv.addr())
		} else if strings.Contains(err.Error(), password) {
			t.Errorf("%s while down: the error reveals the password: %v", name, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s took %v to fail", name, d)
		}
	}
	mu.Lock()
	var ue *redisstore.UnavailableError
	if !errors.As(firstErr, &ue) {
		t.Errorf("the writer's first error: %v, want *UnavailableError", firstErr)
	}
	mu.Unlock()

	srv.start()
	mu.Lock()
	before := acked
	mu.Unlock()
	waitFor(t, "writes after the restart", func() bool { mu.Lock(); defer mu.Unlock(); return acked >= before+20 })
	close(stop)
	<-done

	got := count(t, openVault(t, raw, id))
	mu.Lock()
	defer mu.Unlock()
	if got < acked || got > acked+failed {
		t.Errorf("count %d: %d increments acknowledged, %d failed", got, acked, failed)
	}
	if _, err := reader.Verify(ctx); err != nil {
		t.Errorf("Verify after the restart: %v", err)
	}
	t.Logf("%d increments acknowledged, %d failed while the server was down, count %d", acked, failed, got)
}

// waitFor polls cond until it holds, failing the test after a generous
// bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
