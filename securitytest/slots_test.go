//go:build unix

package securitytest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authvault/authvault/records"
)

// The slot file a state blob is written in, as SECURITY.md describes it:
// a 64-byte header ("AVSLOT1\x00", the current seq, the slot capacity,
// zeros), then two slots of 48 + capacity bytes (seq, length, zeros,
// SHA-256 of seq|length|data, data, zeros), little-endian.

type slotFile struct {
	capacity int
	seq      uint64
	cur      int // the slot holding seq
	b        []byte
}

func parseSlotFile(t testing.TB, b []byte) slotFile {
	t.Helper()
	if len(b) < 64 || string(b[:8]) != "AVSLOT1\x00" {
		t.Fatalf("not a slot file: %q", b[:min(len(b), 8)])
	}
	f := slotFile{seq: binary.LittleEndian.Uint64(b[8:16]), capacity: int(binary.LittleEndian.Uint32(b[16:20])), b: b, cur: -1}
	if len(b) != 64+2*(48+f.capacity) || !bytes.Equal(b[20:64], make([]byte, 44)) {
		t.Fatalf("slot file of %d bytes, capacity %d", len(b), f.capacity)
	}
	for i := range 2 {
		s := f.slot(i)
		if binary.LittleEndian.Uint64(s[:8]) == f.seq {
			f.cur = i
		}
	}
	if f.cur < 0 {
		t.Fatalf("no slot holds the current seq %d", f.seq)
	}
	s := f.slot(f.cur)
	n := int(binary.LittleEndian.Uint32(s[8:12]))
	if sum := slotSum(f.seq, s[48:48+n]); !bytes.Equal(sum[:], s[16:48]) || !bytes.Equal(s[48+n:], make([]byte, f.capacity-n)) {
		t.Fatal("the current slot does not check")
	}
	return f
}

func (f slotFile) slot(i int) []byte { return f.b[64+i*(48+f.capacity):][:48+f.capacity] }

// slotRange is where slot i lies in the file.
func (f slotFile) slotRange(i int) (int, int) {
	start := 64 + i*(48+f.capacity)
	return start, start + 48 + f.capacity
}

// blob returns the sealed blob of the current version.
func (f slotFile) blob() []byte {
	s := f.slot(f.cur)
	return bytes.Clone(s[48:][:binary.LittleEndian.Uint32(s[8:12])])
}

func slotSum(seq uint64, data []byte) [32]byte {
	var meta [12]byte
	binary.LittleEndian.PutUint64(meta[:8], seq)
	binary.LittleEndian.PutUint32(meta[8:], uint32(len(data)))
	return sha256.Sum256(append(meta[:], data...))
}

// withBlob is the file with its current slot rewritten to hold blob, its
// digest recomputed: anyone who can write the file can do that.
func (f slotFile) withBlob(t testing.TB, blob []byte) []byte {
	t.Helper()
	if len(blob) > f.capacity {
		t.Fatalf("a blob of %d bytes in slots of %d", len(blob), f.capacity)
	}
	b := bytes.Clone(f.b)
	s := b[64+f.cur*(48+f.capacity):][:48+f.capacity]
	clear(s[8:])
	binary.LittleEndian.PutUint32(s[8:12], uint32(len(blob)))
	sum := slotSum(f.seq, blob)
	copy(s[16:48], sum[:])
	copy(s[48:], blob)
	return b
}

// The change counters can only delay: a .changes file replaced (or frozen)
// by someone who can write the directory makes a reader serve its cached,
// authenticated record for at most a second after another process changed
// it, and a read under a lock (GetLatest) sees the change at once. Garbage
// in the file only makes readers check the files every time.
func TestChangeCountersOnlyDelay(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	reader := f.open(t)
	for range 2 { // the second read is served on the counters' word
		if _, err := reader.Get(ctx, idAPI); err != nil {
			t.Fatal(err)
		}
	}
	counters := filepath.Join(f.dir, ".changes")
	if err := os.Remove(counters); err != nil {
		t.Fatal(err)
	}
	writer := f.open(t) // maps a .changes of its own
	if _, err := writer.Update(ctx, idAPI, func(r *records.Record) error { r.API.Key = "rotated-key-0123456789"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := reader.GetLatest(ctx, idAPI); err != nil || got.API.Key.Reveal() != "rotated-key-0123456789" {
		t.Fatalf("GetLatest: %v", err)
	}
	if _, err := reader.Get(ctx, idAPI); err != nil { // on the counters' word again
		t.Fatal(err)
	}
	if _, err := writer.Update(ctx, idAPI, func(r *records.Record) error { r.API.Key = "second-key-0123456789"; return nil }); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		got, err := reader.Get(ctx, idAPI)
		if err != nil {
			t.Fatal(err)
		}
		if got.API.Key.Reveal() == "second-key-0123456789" {
			t.Logf("seen after %v", time.Since(start))
			break
		}
		if time.Since(start) > 2*time.Second {
			t.Fatal("a replaced .changes hid another process's change for over 2 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Garbage: begun and done never equal.
	b := make([]byte, 64)
	b[0] = 1
	writeFile(t, counters, b)
	fresh := f.open(t)
	if _, err := fresh.Get(ctx, idAPI); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Update(ctx, idAPI, func(r *records.Record) error { r.API.Key = "third-key-0123456789"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := fresh.Get(ctx, idAPI); err != nil || got.API.Key.Reveal() != "third-key-0123456789" {
		t.Fatalf("Get with garbage counters: %v", err)
	}
}
