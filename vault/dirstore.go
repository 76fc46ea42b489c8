package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/authvault/authvault/internal/fsync"
	"github.com/gofrs/flock"
)

// dirStore keeps blobs as files in a directory: 0700 directories, 0600
// files, no symlinks followed, atomic durable replacement.
type dirStore struct {
	dir      string
	insecure bool // accept loose modes (filesystems that cannot hold them)

	mu    sync.Mutex
	locks map[string]*procLock
	// subdirs are open handles on records/ and state/: files are opened
	// relative to them without following a symlink anywhere below the
	// vault directory, in one system call.
	subdirs map[string]*os.File

	changes changeCounters
}

// procLock serializes holders of one lock name inside this process; flock
// then serializes processes.
type procLock struct {
	sem chan struct{}
}

// maxBlobSize bounds any single blob read: a record is at most
// records.MaxRecordSize sealed; the manifest of a very large vault a few
// MiB. Anything larger is refused rather than read into memory.
const maxBlobSize = 256 << 20

func newDirStore(dir string, insecure bool) *dirStore {
	return &dirStore{dir: dir, insecure: insecure, locks: map[string]*procLock{}}
}

func (s *dirStore) path(name string) string { return filepath.Join(s.dir, filepath.FromSlash(name)) }

// checkMode refuses symlinks and, unless insecure, group/other access.
func (s *dirStore) checkMode(path string, fi fs.FileInfo) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &PermissionError{Path: path, Mode: fi.Mode(), Symlink: true}
	}
	if !s.insecure && modeIsLoose(fi.Mode()) {
		return &PermissionError{Path: path, Mode: fi.Mode()}
	}
	return nil
}

// checkOpened checks what opening the blob at p gave: a symlink is a
// *PermissionError, and so is anything but a regular file of private mode.
// On success the caller closes f.
func (s *dirStore) checkOpened(p string, f *os.File, err error) (fs.FileInfo, error) {
	if err != nil {
		if isSymlinkErr(err) {
			return nil, &PermissionError{Path: p, Symlink: true}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file: %w", p, ErrPermissions)
	}
	if err == nil {
		err = s.checkMode(p, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return fi, nil
}

func (s *dirStore) Read(name string) ([]byte, error) {
	tok, tokOK := s.changeToken()
	p := s.path(name)
	f, err := s.open(name)
	fi, err := s.checkOpened(p, f, err)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > maxBlobSize {
		return nil, fmt.Errorf("%s: %d bytes, larger than any vault file can be: %w", p, fi.Size(), ErrCorrupt)
	}
	// Vault files are replaced by rename, and slot files written in place
	// never change size, so the size fstat gives is the content's: one
	// read suffices.
	buf := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if isSlotFile(buf) {
		return s.readSlots(f, buf, p, tok, tokOK)
	}
	return buf, nil
}

// racyWindow: a file modified this recently may share inode, size and
// mtime with an earlier version (timestamps that advance once per clock
// tick, inodes reused after a rename), so its stamp also carries the
// blob's first bytes (magic and random nonce). Linux, macOS and Windows
// filesystems keep modification times to the clock tick or better
// (milliseconds); the window is a comfortable multiple of that.
const racyWindow = 100 * time.Millisecond

func (s *dirStore) Stamp(name string) (Stamp, error) {
	p := s.path(name)
	fi, err := os.Lstat(p)
	if err != nil {
		return Stamp{}, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return Stamp{}, &PermissionError{Path: p, Mode: fi.Mode(), Symlink: true}
	}
	st := Stamp{Version: inode(fi), Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if time.Since(fi.ModTime()) < racyWindow {
		f, err := openNoFollow(p, false)
		if err != nil {
			return Stamp{}, err
		}
		_, err = io.ReadFull(f, st.Tag[:])
		f.Close()
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return Stamp{}, err
		}
	}
	return st, nil
}

func (s *dirStore) Write(name string, data []byte) error {
	defer s.counters(true).begin()()
	return s.write(name, data)
}

// WriteVolatile replaces a blob atomically but not durably, in place in a
// slot file (see slots.go).
func (s *dirStore) WriteVolatile(name string, data []byte) error {
	defer s.counters(true).begin()()
	return s.writeVolatile(name, data)
}

func (s *dirStore) write(name string, data []byte) error {
	p := s.path(name)
	dir := filepath.Dir(p)
	if err := s.ensureDir(dir); err != nil {
		return err
	}
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return &PermissionError{Path: p, Mode: fi.Mode(), Symlink: true}
	}
	if err := atomicWrite(dir, p, data, true); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return fsync.Dir(dir)
}

// ensureDir creates dir (and the vault dir) 0700 if missing and refuses a
// symlink in their place.
func (s *dirStore) ensureDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := fsync.Dir(filepath.Dir(dir)); err != nil {
			return err
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &PermissionError{Path: dir, Mode: fi.Mode(), Symlink: true}
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory: %w", dir, ErrPermissions)
	}
	if !s.insecure && modeIsLoose(fi.Mode()) {
		return &PermissionError{Path: dir, Mode: fi.Mode()}
	}
	return nil
}

func (s *dirStore) Remove(name string) error {
	defer s.counters(true).begin()()
	p := s.path(name)
	err := os.Remove(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (s *dirStore) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(s.path(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, dir+"/"+e.Name())
	}
	return names, nil
}

func (s *dirStore) Lock(ctx context.Context, name string) (func(), error) {
	file := ".lock"
	if name != "" {
		file = "locks/" + name + ".lock"
	}
	s.mu.Lock()
	pl := s.locks[file]
	if pl == nil {
		pl = &procLock{sem: make(chan struct{}, 1)}
		s.locks[file] = pl
	}
	s.mu.Unlock()
	select {
	case pl.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrLockTimeout, ctx.Err())
	}
	p := s.path(file)
	if err := s.ensureDir(filepath.Dir(p)); err != nil {
		<-pl.sem
		return nil, err
	}
	if fi, err := os.Lstat(p); err == nil {
		if err := s.checkMode(p, fi); err != nil {
			<-pl.sem
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			<-pl.sem
			return nil, fmt.Errorf("%s: not a regular file: %w", p, ErrPermissions)
		}
	}
	fl := flock.New(p, flock.SetFlag(os.O_CREATE|os.O_RDWR|oNoFollow), flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil || !ok {
		<-pl.sem
		if isSymlinkErr(err) {
			return nil, &PermissionError{Path: p, Symlink: true}
		}
		if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("%w (%s)", ErrLockTimeout, p)
		}
		return nil, fmt.Errorf("locking %s: %w", p, err)
	}
	if name == "" {
		s.counters(true).heal()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = fl.Unlock()
			<-pl.sem
		})
	}, nil
}

func (s *dirStore) Close() error {
	s.changes.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, d := range s.subdirs {
		d.Close()
		delete(s.subdirs, k)
	}
	return nil
}

// open opens a blob for reading without following a symlink: the last
// component by O_NOFOLLOW, a records/ or state/ directory by opening it
// once with O_NOFOLLOW and the blob relative to it.
func (s *dirStore) open(name string) (*os.File, error) { return s.openFile(name, false) }

// openFile is open, for reading and writing when rw is set.
func (s *dirStore) openFile(name string, rw bool) (*os.File, error) {
	dir, base, ok := strings.Cut(name, "/")
	if !ok || strings.Contains(base, "/") {
		return openNoFollow(s.path(name), rw)
	}
	for try := 0; ; try++ {
		d, err := s.subdir(dir)
		if err != nil {
			return nil, err
		}
		f, err := openAt(d, base, s.path(name), rw)
		if err == nil || try == 1 || !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
		// The directory may have been replaced since it was opened:
		// open it again once.
		s.mu.Lock()
		if s.subdirs[dir] == d {
			d.Close()
			delete(s.subdirs, dir)
		}
		s.mu.Unlock()
	}
}

func (s *dirStore) subdir(dir string) (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.subdirs[dir]; d != nil {
		return d, nil
	}
	p := s.path(dir)
	d, err := openDirNoFollow(p)
	if err != nil {
		// O_NOFOLLOW with O_DIRECTORY says ENOTDIR for a symlink on Linux,
		// ELOOP elsewhere: ask the path itself.
		if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 || isSymlinkErr(err) {
			return nil, &PermissionError{Path: p, Symlink: true}
		}
		return nil, err
	}
	if s.subdirs == nil {
		s.subdirs = map[string]*os.File{}
	}
	s.subdirs[dir] = d
	return d, nil
}

// DirStore returns the directory store for dir: the Store a vault uses
// when none is given. Tools that copy a vault between stores use it.
func DirStore(dir string, opts ...Option) Store {
	o := buildOptions(opts)
	return newDirStore(dir, o.insecure)
}
