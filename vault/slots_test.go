package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newSlotStore(t *testing.T) (*dirStore, string) {
	t.Helper()
	dir := t.TempDir() + "/v"
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := newDirStore(dir, false)
	t.Cleanup(func() { s.Close() })
	return s, dir
}

const slotName = "state/x.avs"

func mustWriteVolatile(t *testing.T, s *dirStore, data string) {
	t.Helper()
	if err := s.WriteVolatile(slotName, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, s *dirStore) string {
	t.Helper()
	b, err := s.Read(slotName)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantRead fails the test unless the blob reads as want; when says at
// which point.
func wantRead(t *testing.T, s *dirStore, want, when string) {
	t.Helper()
	if got := mustRead(t, s); got != want {
		t.Fatalf("%s: read %q, want %q", when, got, want)
	}
}

func inodeOf(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return inode(fi)
}

func TestSlotFileInPlace(t *testing.T) {
	s, dir := newSlotStore(t)
	p := filepath.Join(dir, slotName)
	mustWriteVolatile(t, s, "v1")
	ino := inodeOf(t, p)
	for i := 2; i <= 20; i++ {
		want := fmt.Sprintf("v%d", i)
		mustWriteVolatile(t, s, want)
		wantRead(t, s, want, "in place")
	}
	if inodeOf(t, p) != ino {
		t.Error("a blob that fits its slots was not written in place")
	}
	// Outgrowing the slots: a new, larger file, by rename.
	big := strings.Repeat("b", slotMinCap+1)
	mustWriteVolatile(t, s, big)
	if got := mustRead(t, s); got != big {
		t.Fatalf("read %d bytes, want %d", len(got), len(big))
	}
	if fi, _ := os.Stat(p); fi.Size() != slotFileSize(slotCapacity(len(big))) {
		t.Errorf("size %d after growing", fi.Size())
	}
	// Shrinking again stays in place, and no padding leaks into reads.
	ino = inodeOf(t, p)
	mustWriteVolatile(t, s, "small")
	if got := mustRead(t, s); got != "small" || inodeOf(t, p) != ino {
		t.Errorf("read %q after shrinking", got)
	}
	// A blob written durably over it is a plain file again, and read.
	if err := s.Write(slotName, []byte("AVB1 plain")); err != nil {
		t.Fatal(err)
	}
	wantRead(t, s, "AVB1 plain", "after a durable write")
	mustWriteVolatile(t, s, "slotted again")
	wantRead(t, s, "slotted again", "in place after a durable write")
}

// A crash at any point of an in-place write leaves the previous version.
func TestSlotFileCrash(t *testing.T) {
	s, dir := newSlotStore(t)
	p := filepath.Join(dir, slotName)
	mustWriteVolatile(t, s, "old version")
	mustWriteVolatile(t, s, "current version")
	before, _ := os.ReadFile(p)
	mustWriteVolatile(t, s, "next version")
	after, _ := os.ReadFile(p)
	// The write fills the other slot, then writes the header's seq (one
	// 8-byte write, which a crash does not split). Replay every prefix of
	// the slot's changes on the file as it was: the current version stays.
	var slotDiff []int
	for i := slotHeaderSize; i < len(before); i++ {
		if before[i] != after[i] {
			slotDiff = append(slotDiff, i)
		}
	}
	if len(slotDiff) == 0 {
		t.Fatal("the write changed no slot")
	}
	for n := 0; n <= len(slotDiff); n++ {
		b := bytes.Clone(before)
		for _, i := range slotDiff[:n] {
			b[i] = after[i]
		}
		writeRaw(t, p, b)
		wantRead(t, s, "current version", fmt.Sprintf("crash after %d of %d slot bytes", n, len(slotDiff)))
	}
	writeRaw(t, p, after)
	wantRead(t, s, "next version", "the whole write")
	// And the next write after such a crash works.
	mustWriteVolatile(t, s, "after the crash")
	wantRead(t, s, "after the crash", "a write after a crash")
}

// Every byte a reader uses is checked: the header and the current slot.
// The other slot, the previous version, is never read as data.
func TestSlotFileDamage(t *testing.T) {
	s, dir := newSlotStore(t)
	p := filepath.Join(dir, slotName)
	mustWriteVolatile(t, s, "previous")
	mustWriteVolatile(t, s, "current")
	orig, _ := os.ReadFile(p)
	_, cur, err := currentSlot(orig)
	if err != nil {
		t.Fatal(err)
	}
	capacity, _, _ := slotLayout(orig)
	slotStart := func(i int) int { return slotHeaderSize + i*(slotMetaSize+capacity) }
	for i := range orig {
		b := bytes.Clone(orig)
		b[i] ^= 1 << (i % 8)
		writeRaw(t, p, b)
		got, err := s.Read(slotName)
		inOther := i >= slotStart(1-cur) && i < slotStart(1-cur)+slotMetaSize+capacity
		switch {
		case inOther:
			if err != nil || string(got) != "current" {
				t.Fatalf("flip in the other slot (byte %d): %q, %v", i, got, err)
			}
		case i < len(slotMagic):
			// No longer a slot file: read as a plain blob, which the
			// vault then fails to open as an envelope.
			if err != nil || bytes.Contains(got, []byte("current")) && len(got) == len("current") {
				t.Fatalf("flip in the magic (byte %d): %q, %v", i, got, err)
			}
		default:
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flip at byte %d: %q, %v", i, got, err)
			}
		}
	}
	for _, n := range []int{slotHeaderSize, len(orig) - 1} {
		writeRaw(t, p, orig[:n])
		if _, err := s.Read(slotName); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d: %v", n, err)
		}
	}
	writeRaw(t, p, append(bytes.Clone(orig), 0))
	if _, err := s.Read(slotName); !errors.Is(err, ErrCorrupt) {
		t.Errorf("extended: %v", err)
	}
	// A damaged file is replaced by the next write.
	writeRaw(t, p, orig[:100])
	mustWriteVolatile(t, s, "replaced")
	wantRead(t, s, "replaced", "after replacing")
}

func TestSlotFileHardLink(t *testing.T) {
	s, dir := newSlotStore(t)
	p := filepath.Join(dir, slotName)
	mustWriteVolatile(t, s, "mine")
	q := filepath.Join(t.TempDir(), "link")
	if err := os.Link(p, q); err != nil {
		t.Skipf("hard links: %v", err)
	}
	linked, _ := os.ReadFile(q)
	mustWriteVolatile(t, s, "new")
	if b, _ := os.ReadFile(q); !bytes.Equal(b, linked) {
		t.Error("the write went through a hard link")
	}
	wantRead(t, s, "new", "after the write")
}

// Readers of another handle (another process, to the kernel the same)
// never see a torn or mixed version while a writer rewrites the file in
// place as fast as it can.
func TestSlotFileConcurrentReaders(t *testing.T) {
	s, dir := newSlotStore(t)
	mustWriteVolatile(t, s, version(0))
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	errs := make(chan error, 4)
	for range 3 {
		r := newDirStore(dir, false)
		defer r.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for !stop.Load() {
				b, err := r.Read(slotName)
				if err != nil {
					errs <- err
					return
				}
				var n int
				if _, err := fmt.Sscanf(string(b), "version %d", &n); err != nil || string(b) != version(n) || n < last {
					errs <- fmt.Errorf("read %.40q after version %d", b, last)
					return
				}
				last = n
				reads.Add(1)
			}
		}()
	}
	for i := 1; i <= 3000; i++ {
		mustWriteVolatile(t, s, version(i))
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d reads during 3000 writes", reads.Load())
}

// version is a blob whose every byte depends on n, of varying length.
func version(n int) string {
	return fmt.Sprintf("version %d ", n) + strings.Repeat(fmt.Sprintf("%x", n%16), 100+n%300)
}

// Without the change counters, a stat tells every in-place write apart.
func TestSlotFileStampChanges(t *testing.T) {
	s, _ := newSlotStore(t)
	s.changes.off = true // no counters
	mustWriteVolatile(t, s, "v0")
	prev, err := s.Stamp(slotName)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		mustWriteVolatile(t, s, fmt.Sprintf("v%d", i%2)) // same size every time
		st, err := s.Stamp(slotName)
		if err != nil {
			t.Fatal(err)
		}
		if st == prev {
			t.Fatalf("write %d: stamp unchanged", i)
		}
		prev = st
	}
}

// A reader that finds the current slot half rewritten while the counters
// show a write in progress reads again, and gets a whole version.
func TestSlotFileReadDuringWrite(t *testing.T) {
	s, dir := newSlotStore(t)
	p := filepath.Join(dir, slotName)
	mustWriteVolatile(t, s, "one")
	mustWriteVolatile(t, s, "two")
	orig, _ := os.ReadFile(p)
	_, cur, err := currentSlot(orig)
	if err != nil {
		t.Fatal(err)
	}
	capacity, _, _ := slotLayout(orig)
	torn := bytes.Clone(orig)
	torn[slotHeaderSize+cur*(slotMetaSize+capacity)+slotMetaSize] ^= 0xff
	end := s.changes.begin() // a writer in another process, mid-write
	writeRaw(t, p, torn)
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(time.Millisecond)
		writeRaw(t, p, orig)
		end()
	}()
	got, err := newDirStore(dir, false).Read(slotName)
	<-done
	if err != nil || string(got) != "two" {
		t.Fatalf("read %q, %v", got, err)
	}
}
