package vault

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/records"
)

// sealRecordFile writes r, sealed, as generation gen of its record file.
func sealRecordFile(t *testing.T, tv *testVault, r *records.Record, gen uint64) string {
	t.Helper()
	r = r.Clone()
	r.Generation = gen
	pt, err := records.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	base := recordBase(tv.keys, r.ID())
	blob, err := tv.keys.Seal(envelope.BlobRecord, base, pt)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(tv.dir, filepath.FromSlash(recordFile(base, gen)))
	writeRaw(t, p, blob)
	return p
}

// Commits collect debris once it is a minute old by the vault's clock:
// temporary files anywhere, record files no manifest names. An authentic
// record file one generation ahead (a crash before a commit) is kept
// until a commit makes it an ordinary orphan.
func TestCommitsCollectDebris(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	tv := newTestVault(t, WithClock(func() time.Time { return now }))
	r := mustPut(t, tv.Vault, apiRecord("openai", "a", "k1"))
	mustPut(t, tv.Vault, apiRecord("openai", "b", "k"))
	old := filepath.Join(tv.dir, filepath.FromSlash(recordFile(recordBase(tv.keys, r.ID()), r.Generation)))
	if err := os.Link(filepath.Join(tv.dir, filepath.FromSlash(recordFile(recordBase(tv.keys, r.ID()), r.Generation))), old+".keep"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, tv.Vault, apiRecord("openai", "a", "k2"))
	if err := os.Rename(old+".keep", old); err != nil { // a superseded version whose removal was interrupted
		t.Fatal(err)
	}
	var debris []string
	for _, dir := range []string{"", recordsDir, stateDir} {
		os.MkdirAll(filepath.Join(tv.dir, dir), 0o700)
		p := filepath.Join(tv.dir, dir, tempName("x"))
		writeRaw(t, p, []byte("partial"))
		debris = append(debris, p)
	}
	debris = append(debris, old)
	pending := sealRecordFile(t, tv, apiRecord("openai", "c", "k"), tv.man.Generation+1)
	unrelated := filepath.Join(tv.dir, recordsDir, "README")
	writeRaw(t, unrelated, []byte("not the vault's"))

	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	mustPut(t, tv.Vault, apiRecord("openai", "b", "k2"))
	for _, p := range append(debris, pending) {
		if !exists(p) {
			t.Errorf("%s removed before it was a minute old", p)
		}
	}
	now = now.Add(2 * time.Minute)
	mustPut(t, tv.Vault, apiRecord("openai", "b", "k3"))
	for _, p := range append(debris, pending) {
		if exists(p) {
			t.Errorf("%s not collected", p)
		}
	}
	if !exists(unrelated) {
		t.Error("a file that is not the vault's was removed")
	}
	if rep, err := tv.Verify(ctx); err != nil || rep.Orphans != 0 {
		t.Errorf("Verify: %+v, %v", rep, err)
	}
	if got, err := tv.reopen(t).Get(ctx, r.ID()); err != nil || got.API.Key.Reveal() != "k2" {
		t.Errorf("Get: %v", err)
	}
}

// An authentic record file two generations ahead of the manifest stops
// every commit and Sweep; Repair makes the manifest name it.
func TestNewerRecordFileStopsCommits(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	r := mustPut(t, tv.Vault, apiRecord("openai", "a", "k1"))
	newer := apiRecord("openai", "a", "k-newer")
	newer.Created, newer.Updated = r.Created, r.Updated
	p := sealRecordFile(t, tv, newer, tv.man.Generation+2)
	for name, op := range map[string]func() error{
		"Put":   func() error { _, err := tv.reopen(t).Put(ctx, apiRecord("openai", "b", "k")); return err },
		"Sweep": func() error { _, err := tv.Sweep(ctx); return err },
	} {
		if err := op(); !errors.Is(err, ErrRollback) {
			t.Errorf("%s: %v, want ErrRollback", name, err)
		}
	}
	if _, err := tv.Verify(ctx); !errors.Is(err, ErrRollback) {
		t.Errorf("Verify: %v", err)
	}
	if _, err := os.Lstat(p); err != nil {
		t.Fatal("the evidence was removed")
	}
	changes, err := tv.Repair(ctx, false)
	if err != nil || len(changes) != 1 || changes[0].From != r.Generation || changes[0].To != r.Generation+2 {
		t.Fatalf("Repair: %+v, %v", changes, err)
	}
	if got, err := tv.reopen(t).Get(ctx, r.ID()); err != nil || got.API.Key.Reveal() != "k-newer" {
		t.Errorf("Get after Repair: %v", err)
	}
	mustPut(t, tv.Vault, apiRecord("openai", "b", "k"))
	if changes, err := tv.Repair(ctx, false); err != nil || len(changes) != 0 {
		t.Errorf("Repair of a sound vault: %+v, %v", changes, err)
	}
}

// A state file written by an earlier version in its two-slot format is
// read, and replaced by a plain file on the next write.
func TestLegacySlotStateFileRead(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	if _, err := tv.UpdateState(ctx, "pool", func([]byte) ([]byte, error) { return []byte("v1"), nil }); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(tv.dir, filepath.FromSlash(stateFile(tv.keys, "pool")))
	sealed, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const capacity = 1024
	slot := func(seq uint64, data []byte) []byte {
		s := make([]byte, 48+capacity)
		binary.LittleEndian.PutUint64(s, seq)
		binary.LittleEndian.PutUint32(s[8:], uint32(len(data)))
		copy(s[48:], data)
		return s
	}
	legacy := make([]byte, 64)
	copy(legacy, "AVSLOT1\x00")
	binary.LittleEndian.PutUint64(legacy[8:], 7)
	binary.LittleEndian.PutUint32(legacy[16:], capacity)
	legacy = append(append(legacy, slot(6, []byte("previous version"))...), slot(7, sealed)...)
	writeRaw(t, p, legacy)
	data, _, err := tv.reopen(t).ReadState(ctx, "pool")
	if err != nil || string(data) != "v1" {
		t.Fatalf("ReadState of a slot file: %q, %v", data, err)
	}
	if _, err := tv.UpdateState(ctx, "pool", func(old []byte) ([]byte, error) { return append(old, '+'), nil }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); len(b) >= 8 && string(b[:8]) == "AVSLOT1\x00" {
		t.Error("the slot file was not replaced")
	}
	if data, _, err := tv.ReadState(ctx, "pool"); err != nil || string(data) != "v1+" {
		t.Errorf("after the write: %q, %v", data, err)
	}
}

// State writes collect the temporary files of interrupted state writes
// once they are a minute old, listing state/ at most once a minute of
// the vault's clock.
func TestStateWritesCollectDebris(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	tv := newTestVault(t, WithClock(func() time.Time { return now }))
	write := func() {
		t.Helper()
		if _, err := tv.UpdateState(ctx, "pool", func(old []byte) ([]byte, error) { return append(old, '+'), nil }); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	debris := func(age time.Duration) string {
		p := filepath.Join(tv.dir, stateDir, tempName("x"))
		writeRaw(t, p, []byte("partial"))
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write() // lists state/: nothing to collect
	young := debris(0)
	write()
	if !exists(young) {
		t.Fatal("debris removed before it was a minute old")
	}
	now = now.Add(2 * time.Minute)
	write()
	if exists(young) {
		t.Fatal("a minute-old temporary state file not collected")
	}
	old := debris(10 * time.Minute)
	now = now.Add(30 * time.Second)
	write()
	if !exists(old) {
		t.Fatal("state/ listed again within a minute")
	}
	now = now.Add(31 * time.Second)
	write()
	if exists(old) {
		t.Fatal("old temporary state file not collected a minute after the last listing")
	}
	if data, _, err := tv.ReadState(ctx, "pool"); err != nil || string(data) != "+++++" {
		t.Errorf("ReadState: %q, %v", data, err)
	}
}
