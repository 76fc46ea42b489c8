package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Slot files hold the blobs the directory store writes volatile (state
// blobs: cooldowns, counters, caches), which change many times a second
// under load. Replacing a file by rename costs a create, a rename and, on
// ext4, an immediate writeback of the new file; a slot file is written in
// place instead, into the slot that does not hold the current version:
//
//	header  "AVSLOT1\x00" | current seq u64 | slot capacity u32 | 44 zero bytes
//	slot    seq u64 | length u32 | 4 zero bytes | SHA-256(seq|length|data) | data | zeros to capacity
//	slot    the same
//
// (little-endian). The current version is the slot whose seq is the
// header's, intact (digest and zero padding check). A writer fills the
// other slot and then writes the header's seq: a crash at any point leaves
// the previous version current and intact, so the write is atomic, as a
// rename, though not durable. The other slot is never read as data. A
// reader that meets a write in progress (or two) may see the current slot
// half rewritten: it reads again, unless the change counters say no write
// began or ended meanwhile, which means the file is damaged. The digest is
// no authentication: the blob inside is sealed. A blob that outgrows its
// slots gets a new, larger file by rename; so does a file with more than
// one link, which must not be written through.
const (
	slotMagic      = "AVSLOT1\x00"
	slotHeaderSize = 64
	slotMetaSize   = 48
	slotMinCap     = 1024
	slotReadTries  = 8
)

// isSlotFile reports whether b begins like a slot file. No sealed blob or
// header can: they begin "AVB1" and "{".
func isSlotFile(b []byte) bool { return bytes.HasPrefix(b, []byte(slotMagic)) }

func slotFileSize(capacity int) int64 { return slotHeaderSize + 2*int64(slotMetaSize+capacity) }

// slotCapacity is the capacity of a new slot file for a blob of n bytes.
func slotCapacity(n int) int {
	c := slotMinCap
	for c < 2*n {
		c *= 2
	}
	return c
}

func slotDigest(seq uint64, data []byte) [sha256.Size]byte {
	h := sha256.New()
	var meta [12]byte
	binary.LittleEndian.PutUint64(meta[:8], seq)
	binary.LittleEndian.PutUint32(meta[8:], uint32(len(data)))
	h.Write(meta[:])
	h.Write(data)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// slotLayout checks a slot file's header and size: its capacity and
// current seq.
func slotLayout(b []byte) (capacity int, seq uint64, err error) {
	if len(b) < slotHeaderSize || !isSlotFile(b) {
		return 0, 0, errors.New("not a slot file")
	}
	seq = binary.LittleEndian.Uint64(b[8:16])
	c := binary.LittleEndian.Uint32(b[16:20])
	if c == 0 || int64(c) > maxBlobSize || int64(len(b)) != slotFileSize(int(c)) || !allZero(b[20:slotHeaderSize]) {
		return 0, 0, fmt.Errorf("slot file header or size (%d bytes) damaged", len(b))
	}
	return int(c), seq, nil
}

// slotAt returns slot i of a slot file of the given capacity.
func slotAt(b []byte, capacity, i int) []byte {
	return b[slotHeaderSize+i*(slotMetaSize+capacity):][:slotMetaSize+capacity]
}

// intact returns the slot's data when it holds version seq, whole.
func intact(s []byte, seq uint64) ([]byte, bool) {
	n := binary.LittleEndian.Uint32(s[8:12])
	if binary.LittleEndian.Uint64(s[0:8]) != seq || int(n) > len(s)-slotMetaSize || !allZero(s[12:16]) {
		return nil, false
	}
	data := s[slotMetaSize:][:n]
	sum := slotDigest(seq, data)
	return data, bytes.Equal(sum[:], s[16:48]) && allZero(s[slotMetaSize+int(n):])
}

// currentSlot returns the current version of a slot file and the index
// of its slot.
func currentSlot(b []byte) ([]byte, int, error) {
	capacity, seq, err := slotLayout(b)
	if err != nil {
		return nil, 0, err
	}
	for i := range 2 {
		if data, ok := intact(slotAt(b, capacity, i), seq); ok {
			return data, i, nil
		}
	}
	return nil, 0, fmt.Errorf("slot file: version %d not intact", seq)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readSlots returns the current version of the slot file f, whose bytes
// buf holds, read after the change counters read tok (tokOK: no write in
// progress then).
func (s *dirStore) readSlots(f *os.File, buf []byte, path string, tok uint64, tokOK bool) ([]byte, error) {
	for try := 1; ; try++ {
		data, _, err := currentSlot(buf)
		if err == nil {
			return bytes.Clone(data), nil
		}
		if try == slotReadTries {
			return nil, fmt.Errorf("%s: %v: %w", path, err, ErrCorrupt)
		}
		if tokOK {
			if now, ok := s.changeToken(); ok && now == tok {
				// No write began or ended while the file was read.
				return nil, fmt.Errorf("%s: %v: %w", path, err, ErrCorrupt)
			}
		}
		time.Sleep(time.Duration(try) * 200 * time.Microsecond)
		tok, tokOK = s.changeToken()
		if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// writeSlot writes data into the slot file name, in place. It returns
// false, with no error, when the file is missing, is not a slot file, has
// slots too small or more than one link: the caller then writes a new one.
func (s *dirStore) writeSlot(name string, data []byte) (bool, error) {
	p := s.path(name)
	f, err := openNoFollow(p, true)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	fi, err := s.checkOpened(p, f, err)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if fi.Size() < slotHeaderSize || fi.Size() > slotFileSize(int(maxBlobSize)) || hardLinked(f, fi) {
		return false, nil
	}
	buf := make([]byte, fi.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return false, err
	}
	capacity, seq, err := slotLayout(buf)
	if err != nil || capacity < len(data) {
		return false, nil
	}
	target := 0
	if _, cur, err := currentSlot(buf); err == nil {
		target = 1 - cur
	}
	seq++
	if _, err := f.WriteAt(fillSlot(slotAt(buf, capacity, target), seq, data), slotHeaderSize+int64(target)*int64(slotMetaSize+capacity)); err != nil {
		return false, fmt.Errorf("writing %s: %w", p, err)
	}
	var hs [8]byte
	binary.LittleEndian.PutUint64(hs[:], seq)
	if _, err := f.WriteAt(hs[:], 8); err != nil {
		return false, fmt.Errorf("writing %s: %w", p, err)
	}
	return true, nil
}

// fillSlot writes version seq of data into the slot s (zero padded) and
// returns it.
func fillSlot(s []byte, seq uint64, data []byte) []byte {
	clear(s)
	binary.LittleEndian.PutUint64(s[0:8], seq)
	binary.LittleEndian.PutUint32(s[8:12], uint32(len(data)))
	sum := slotDigest(seq, data)
	copy(s[16:48], sum[:])
	copy(s[slotMetaSize:], data)
	return s
}

// newSlotFile is a slot file whose current version, 1, is data.
func newSlotFile(data []byte) []byte {
	capacity := slotCapacity(len(data))
	b := make([]byte, slotFileSize(capacity))
	copy(b, slotMagic)
	binary.LittleEndian.PutUint64(b[8:16], 1)
	binary.LittleEndian.PutUint32(b[16:20], uint32(capacity))
	fillSlot(slotAt(b, capacity, 0), 1, data)
	return b
}

// writeVolatile writes name as a slot file: in place when it is one with
// room, else a new one by rename.
func (s *dirStore) writeVolatile(name string, data []byte) error {
	p := s.path(name)
	if int64(len(data)) > maxBlobSize {
		return fmt.Errorf("%s: %d bytes, larger than any vault file can be", p, len(data))
	}
	if err := s.ensureDir(filepath.Dir(p)); err != nil {
		return err
	}
	if done, err := s.writeSlot(name, data); done || err != nil {
		return err
	}
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return &PermissionError{Path: p, Mode: fi.Mode(), Symlink: true}
	}
	if err := atomicWrite(filepath.Dir(p), p, newSlotFile(data), false); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}
