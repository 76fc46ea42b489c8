package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

func TestStoreContract(t *testing.T) {
	raw := sharedURL(t)
	s := openStore(t, raw)
	other := openStore(t, raw) // another replica's connection

	if _, err := s.Read("records/a.1.avr"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Read of a missing blob: %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Stamp("records/a.1.avr"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stamp of a missing blob: %v, want fs.ErrNotExist", err)
	}

	blob := []byte("sealed-bytes-0123456789abcdefghijklmnop")
	if err := s.Write("records/a.1.avr", blob); err != nil {
		t.Fatal(err)
	}
	got, err := other.Read("records/a.1.avr")
	if err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("Read = %q, %v; want %q", got, err, blob)
	}
	st1, err := other.Stamp("records/a.1.avr")
	if err != nil {
		t.Fatal(err)
	}
	if st1.Size != int64(len(blob)) {
		t.Errorf("stamp %+v: wrong size or tag", st1)
	}
	if again, _ := s.Stamp("records/a.1.avr"); again != st1 {
		t.Errorf("stamp changed without a write: %+v then %+v", st1, again)
	}

	// Every write changes the stamp, even with the same bytes.
	if err := s.Write("records/a.1.avr", blob); err != nil {
		t.Fatal(err)
	}
	st2, _ := other.Stamp("records/a.1.avr")
	if st2 == st1 {
		t.Errorf("stamp unchanged by a write: %+v", st2)
	}

	// Stamps of different blobs, and of a blob removed and written again,
	// never repeat.
	seen := map[vault.Stamp]string{st1: "a first", st2: "a second"}
	for _, n := range []string{"records/b.1.avr", "state/x.avs", "manifest.avm"} {
		if err := s.Write(n, blob); err != nil {
			t.Fatal(err)
		}
		st, _ := s.Stamp(n)
		if prev, dup := seen[st]; dup {
			t.Errorf("%s has the stamp of %s", n, prev)
		}
		seen[st] = n
	}
	if err := s.Remove("records/b.1.avr"); err != nil {
		t.Fatal(err)
	}
	if err := s.Write("records/b.1.avr", blob); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Stamp("records/b.1.avr"); seen[st] != "" {
		t.Errorf("a rewritten blob repeats the stamp of %s", seen[st])
	}

	lists := map[string][]string{}
	for _, d := range []string{"records", "state", "", "nothing"} {
		if lists[d], err = other.List(d); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{
		"records": {"records/a.1.avr", "records/b.1.avr"},
		"state":   {"state/x.avs"},
		"":        {"manifest.avm"},
		"nothing": {},
	}
	if diff := cmp.Diff(want, lists, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	if err := s.Remove("records/a.1.avr"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("records/a.1.avr"); err != nil {
		t.Errorf("removing a missing blob: %v", err)
	}
	if _, err := other.Read("records/a.1.avr"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read after Remove: %v", err)
	}
	if l, _ := other.List("records"); !slices.Equal(l, []string{"records/b.1.avr"}) {
		t.Errorf("List after Remove: %v", l)
	}

	for _, bad := range []string{"", "/abs", "dir/", "a//b", "a\x00b"} {
		if err := s.Write(bad, blob); err == nil {
			t.Errorf("Write(%q) accepted", bad)
		}
	}
}

func TestWriteIf(t *testing.T) {
	s := openStore(t, sharedURL(t))
	const name = "manifest.avm"
	if err := s.WriteIf(name, []byte("v1"), vault.Stamp{}); err != nil {
		t.Fatalf("create-if-absent: %v", err)
	}
	if err := s.WriteIf(name, []byte("again"), vault.Stamp{}); !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("create-if-absent over an existing blob: %v, want ErrConflict", err)
	}
	st1, _ := s.Stamp(name)
	if err := s.WriteIf(name, []byte("v2"), st1); err != nil {
		t.Fatalf("write on the current version: %v", err)
	}
	if err := s.WriteIf(name, []byte("stale"), st1); !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("write on a stale version: %v, want ErrConflict", err)
	}
	if b, _ := s.Read(name); string(b) != "v2" {
		t.Fatalf("blob = %q after a refused write, want v2", b)
	}
	// The same call again (its answer lost, the client retrying) finds
	// its own bytes: a success, not a conflict, and no new version.
	st2, _ := s.Stamp(name)
	if err := s.WriteIf(name, []byte("v2"), st1); err != nil {
		t.Fatalf("retried write: %v", err)
	}
	if st, _ := s.Stamp(name); st != st2 {
		t.Errorf("the retried write made a new version")
	}
}

func TestLockExclusive(t *testing.T) {
	raw := sharedURL(t)
	a, b := openStore(t, raw), openStore(t, raw)
	ctx := context.Background()
	unlockA, err := a.Lock(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// Another replica waits until its context ends.
	tctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := b.Lock(tctx, ""); !errors.Is(err, vault.ErrLockTimeout) {
		t.Fatalf("second holder: %v, want ErrLockTimeout", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("the wait took %v, past its context", waited)
	}
	// So does another goroutine of the same process.
	tctx2, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := a.Lock(tctx2, ""); !errors.Is(err, vault.ErrLockTimeout) {
		t.Fatalf("second holder in-process: %v, want ErrLockTimeout", err)
	}
	// Per-record locks are independent of the vault lock and of each
	// other.
	unlockR, err := b.Lock(ctx, "rec1")
	if err != nil {
		t.Fatal(err)
	}
	unlockR2, err := a.Lock(ctx, "rec2")
	if err != nil {
		t.Fatal(err)
	}
	unlockR2()

	// A waiter gets the lock as soon as it is released.
	got := make(chan error, 1)
	go func() {
		unlock, err := b.Lock(ctx, "")
		if err == nil {
			unlock()
		}
		got <- err
	}()
	unlockA()
	unlockA() // idempotent
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter did not get the released lock")
	}
	unlockR()
}

// Many goroutines in two replicas take turns: the lock never has two
// holders.
func TestLockMutualExclusion(t *testing.T) {
	raw := sharedURL(t)
	stores := []*redisstore.Store{openStore(t, raw), openStore(t, raw)}
	var mu sync.Mutex
	inside, turns := 0, 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(s *redisstore.Store) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				unlock, err := s.Lock(context.Background(), "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inside++
				if inside != 1 {
					t.Errorf("%d holders at once", inside)
				}
				turns++
				mu.Unlock()
				time.Sleep(100 * time.Microsecond)
				mu.Lock()
				inside--
				mu.Unlock()
				unlock()
			}
		}(stores[g%2])
	}
	wg.Wait()
	if turns != 80 {
		t.Errorf("%d turns, want 80", turns)
	}
}

// A holder whose lock expired cannot release the next holder's lock, and
// its writes are refused whole.
func TestLockReleasedOnlyByOwner(t *testing.T) {
	raw := sharedURL(t)
	a, b, c := openStore(t, raw), openStore(t, raw), openStore(t, raw)
	ctx := context.Background()
	if err := a.Write("records/r.1.avr", []byte("before")); err != nil {
		t.Fatal(err)
	}
	unlockA, err := a.Lock(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// The lock expires under a's feet, as it does when a is paused past
	// the TTL.
	rc := rawClient(t, raw)
	if err := rc.Del(ctx, prefixOf(t, raw)+":lock").Err(); err != nil {
		t.Fatal(err)
	}
	unlockB, err := b.Lock(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	unlockA() // must not release b's lock
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := c.Lock(tctx, ""); !errors.Is(err, vault.ErrLockTimeout) {
		t.Fatalf("after the stale holder's unlock a third took the lock: %v", err)
	}

	// Take it again with a, lose it again, and write: refused.
	unlockB()
	unlockA, err = a.Lock(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer unlockA()
	rc.Del(ctx, prefixOf(t, raw)+":lock")
	unlockB, err = b.Lock(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer unlockB()
	for _, op := range []func() error{
		func() error { return a.Write("records/r.1.avr", []byte("stale")) },
		func() error { return a.WriteIf("records/r.1.avr", []byte("stale"), vault.Stamp{}) },
		func() error { return a.Remove("records/r.1.avr") },
		func() error { return a.Write("records/new.2.avr", []byte("stale")) },
	} {
		if err := op(); !errors.Is(err, redisstore.ErrLockLost) {
			t.Errorf("stale holder's change: %v, want ErrLockLost", err)
		}
	}
	if got, _ := b.Read("records/r.1.avr"); string(got) != "before" {
		t.Errorf("blob = %q, want it untouched", got)
	}
	if _, err := b.Read("records/new.2.avr"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stale holder created a blob: %v", err)
	}
	if l, _ := b.List("records"); len(l) != 1 {
		t.Errorf("records %v", l)
	}
	// The current holder writes.
	if err := b.Write("records/r.1.avr", []byte("after")); err != nil {
		t.Fatal(err)
	}
}

// A lock held longer than its TTL stays held: the holder renews it.
// The test waits for three renewals (the lock's remaining time rising)
// and checks that the lock never lapsed meanwhile.
func TestLockRenewedWhileHeld(t *testing.T) {
	raw := sharedURL(t, "lock_ttl=300ms")
	s := openStore(t, raw)
	rc := rawClient(t, raw)
	ctx := context.Background()
	key := prefixOf(t, raw) + ":lock"
	unlock, err := s.Lock(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	token, _ := rc.Get(ctx, key).Result()
	renewals := 0
	last := time.Duration(1 << 62)
	deadline := time.Now().Add(20 * time.Second)
	for renewals < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d renewals seen", renewals)
		}
		pttl, err := rc.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if pttl < 0 {
			t.Fatalf("the held lock lapsed (PTTL %v) after %d renewals", pttl, renewals)
		}
		if cur, _ := rc.Get(ctx, key).Result(); cur != token {
			t.Fatalf("lock token changed while held")
		}
		if pttl > last {
			renewals++
		}
		last = pttl
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Write("state/x.avs", []byte("still mine")); err != nil {
		t.Fatalf("write after renewals: %v", err)
	}
	unlock()
	if n, _ := rc.Exists(ctx, key).Result(); n != 0 {
		t.Error("lock still there after unlock")
	}
}

// Each acquisition carries a larger fencing number than the last.
func TestLockFencingNumbersIncrease(t *testing.T) {
	raw := sharedURL(t)
	s := openStore(t, raw)
	rc := rawClient(t, raw)
	key := prefixOf(t, raw) + ":lock"
	prev := ""
	for i := 0; i < 3; i++ {
		unlock, err := s.Lock(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := rc.Get(context.Background(), key).Result()
		fence, _, ok := strings.Cut(tok, ":")
		if !ok || len(fence) < len(prev) || len(fence) == len(prev) && fence <= prev {
			t.Errorf("fencing number %q after %q", fence, prev)
		}
		prev = fence
		unlock()
	}
}

func TestClosedStore(t *testing.T) {
	s, err := redisstore.Open(context.Background(), sharedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	unlock() // after Close: harmless
	if _, err := s.Read("vault.json"); !errors.Is(err, vault.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if _, err := s.Lock(context.Background(), ""); !errors.Is(err, vault.ErrClosed) {
		t.Errorf("Lock after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
