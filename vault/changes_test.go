package vault

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
)

func TestChangeCounters(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no change counters on Windows")
	}
	s, dir := newSlotStore(t)
	other := newDirStore(dir, false) // another process, to the file
	defer other.Close()
	// Reading creates nothing: the directory may hold no vault.
	if _, err := s.Read("vault.json"); err == nil {
		t.Fatal("read a missing file")
	}
	if _, ok := s.changeToken(); ok {
		t.Fatal("counters before any write")
	}
	if _, err := os.Lstat(filepath.Join(dir, changesName)); !os.IsNotExist(err) {
		t.Fatalf("a read left %s behind: %v", changesName, err)
	}
	// The first write creates them; a reader finds them within
	// changesRetry.
	if err := other.Write("vault.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	s.changes.tried = time.Time{}
	tok, ok := s.changeToken()
	if !ok {
		t.Fatal("no change counters")
	}
	if fi, err := os.Lstat(filepath.Join(dir, changesName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf(".changes: %v, %v", fi, err)
	}
	for _, w := range []struct {
		what string
		fn   func() error
	}{
		{"Write", func() error { return other.Write("records/a.1.avr", []byte("x")) }},
		{"WriteVolatile", func() error { return other.WriteVolatile(slotName, []byte("y")) }},
		{"WriteVolatile in place", func() error { return other.WriteVolatile(slotName, []byte("z")) }},
		{"Remove", func() error { return other.Remove("records/a.1.avr") }},
	} {
		if err := w.fn(); err != nil {
			t.Fatal(err)
		}
		now, ok := s.changeToken()
		if !ok || now <= tok {
			t.Errorf("%s: token %d → %d, %v", w.what, tok, now, ok)
		}
		tok = now
		if again, _ := s.changeToken(); again != tok {
			t.Errorf("%s: token moved without a write", w.what)
		}
	}
	// A writer that died mid-write: readers take the slow path until the
	// next holder of the vault lock heals the counters, past any value
	// seen before.
	other.changes.begin() // never ended
	if _, ok := s.changeToken(); ok {
		t.Fatal("a write in progress went unnoticed")
	}
	unlock, err := s.Lock(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	now, ok := s.changeToken()
	if !ok || now <= tok {
		t.Errorf("after healing: token %d → %d, %v", tok, now, ok)
	}
}

// The hot Get skips its stat only while the counters vouch for the
// manifest; a change made behind the counters' back (not through a vault,
// or by a process whose .changes was replaced) shows within the memo's
// age.
func TestGetMemoAges(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no change counters on Windows")
	}
	ctx := context.Background()
	tv := newTestVault(t)
	r := mustPut(t, tv.Vault, apiRecord("openai", "a", "k-1"))
	reader := tv.reopen(t)
	for range 2 { // the second Get leaves a memo
		if _, err := reader.Get(ctx, r.ID()); err != nil {
			t.Fatal(err)
		}
	}
	setKeyFromOtherCounters(t, tv, r.ID(), "k-3")
	deadline := time.Now().Add(changesMaxAge + time.Second)
	for {
		got, err := reader.Get(ctx, r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if got.API.Key.Reveal() == "k-3" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q after %v", got.API.Key.Reveal(), changesMaxAge+time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// GetLatest never trusts the counters.
func TestGetLatestChecks(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	r := mustPut(t, tv.Vault, apiRecord("openai", "a", "k-1"))
	reader := tv.reopen(t)
	for range 2 {
		if _, err := reader.Get(ctx, r.ID()); err != nil {
			t.Fatal(err)
		}
	}
	setKeyFromOtherCounters(t, tv, r.ID(), "k-2")
	got, err := reader.GetLatest(ctx, r.ID())
	if err != nil || got.API.Key.Reveal() != "k-2" {
		t.Fatalf("GetLatest: %v, %v", got, err)
	}
}

// setKeyFromOtherCounters sets id's API key through a vault opened after
// .changes was removed: a writer on counters of its own, which the
// vault's other handles do not see move.
func setKeyFromOtherCounters(t *testing.T, tv *testVault, id records.ID, key string) {
	t.Helper()
	if err := os.Remove(filepath.Join(tv.dir, changesName)); err != nil {
		t.Fatal(err)
	}
	w, err := Open(context.Background(), tv.dir, []age.Identity{tv.id})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Update(context.Background(), id, func(x *records.Record) error { x.API.Key = records.Secret(key); return nil }); err != nil {
		t.Fatal(err)
	}
}
