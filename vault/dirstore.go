package vault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/internal/fsync"
	"github.com/authvault/authvault/records"
)

// dirStore keeps blobs as files in a directory: 0700 directories, 0600
// files, atomic replacement by rename. It never follows a symbolic link:
// every file is reached through directory handles (see dirHandle),
// opened afresh for each operation, so a records/ or state/ replaced by
// a link is refused even by a process that used it before. Only regular files
// are read, and never more bytes than their kind of blob can hold.
type dirStore struct {
	dir      string
	insecure bool // accept loose modes (filesystems that cannot hold them)

	mu    sync.Mutex
	locks map[string]*procLock
}

// procLock serializes holders of one lock name inside this process; flock
// then serializes processes.
type procLock struct {
	sem chan struct{}
}

// lockPoll is how often a waiter tries a lock another process holds.
const lockPoll = 5 * time.Millisecond

func newDirStore(dir string, insecure bool) *dirStore {
	return &dirStore{dir: dir, insecure: insecure, locks: map[string]*procLock{}}
}

// DirStore returns the directory store for dir: the Store a vault uses
// when none is given. Tools that copy a vault between stores use it.
func DirStore(dir string, opts ...Option) Store {
	o := buildOptions(opts)
	return newDirStore(dir, o.insecure)
}

// blobLimit is the largest a blob called name can be, checked from fstat
// before anything is read: a sealed record, a header, a state blob, the
// manifest of a very large vault.
func blobLimit(name string) int64 {
	switch {
	case name == headerName:
		return maxHeaderSize
	case strings.HasPrefix(name, recordsDir+"/"):
		return int64(records.MaxRecordSize + envelope.Overhead)
	case strings.HasPrefix(name, stateDir+"/"):
		return int64(MaxStateSize + maxStateName + 16 + envelope.Overhead)
	default:
		return maxManifestSize
	}
}

// maxManifestSize bounds the manifest: 64 MiB is some 400,000 records.
const maxManifestSize = 64 << 20

// split separates a blob name into its directory ("" for the vault
// directory) and file name.
func split(name string) (dir, base string) {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

// rootDir opens the vault directory (creating it 0700 when create is
// set), refusing a symbolic link. It is opened for every operation, so a
// process follows the vault when its directory is replaced, as it would
// by path. Its mode is checked by checkLayout, on Open and by every
// writer.
func (s *dirStore) rootDir(create bool) (*dirHandle, error) {
	d, err := openDirPath(s.dir)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err = os.Mkdir(s.dir, 0o700); err == nil || errors.Is(err, fs.ErrExist) {
			if err = fsync.Dir(filepath.Dir(s.dir)); err == nil {
				d, err = openDirPath(s.dir)
			}
		}
	}
	return d, err
}

// at opens the directory dir below the vault directory ("" for the vault
// directory itself); the caller closes it.
func (s *dirStore) at(dir string, create bool) (*dirHandle, func(), error) {
	root, err := s.rootDir(create)
	if err != nil {
		return nil, nil, err
	}
	if dir == "" {
		return root, root.close, nil
	}
	defer root.close()
	d, err := root.sub(dir, create)
	if err != nil || !create {
		// Readers leave the directory's mode to checkLayout (Open,
		// Verify, every writer).
		return d, d.close, err
	}
	fi, err := d.stat()
	if err == nil {
		err = s.checkDir(d.path, fi)
	}
	if err != nil {
		d.close()
		return nil, nil, err
	}
	return d, d.close, nil
}

// checkDir refuses a directory others may access, unless insecure.
func (s *dirStore) checkDir(path string, fi fileInfo) error {
	if !fi.mode.IsDir() {
		return &PermissionError{Path: path, Mode: fi.mode}
	}
	if !s.insecure && modeIsLoose(fi.mode) {
		return &PermissionError{Path: path, Mode: fi.mode}
	}
	return nil
}

// checkFile refuses anything but a regular file, and one others may
// access unless insecure.
func (s *dirStore) checkFile(path string, fi fileInfo) error {
	if !fi.mode.IsRegular() || !s.insecure && modeIsLoose(fi.mode) {
		return &PermissionError{Path: path, Mode: fi.mode, Symlink: fi.mode&fs.ModeSymlink != 0}
	}
	return nil
}

func (s *dirStore) Read(name string) ([]byte, error) {
	dir, base := split(name)
	d, release, err := s.at(dir, false)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.readAt(d, name, base)
}

// readAt reads the blob name, the file base below d.
func (s *dirStore) readAt(d *dirHandle, name, base string) ([]byte, error) {
	f, err := d.open(base)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := fstat(f, f.Name())
	if err != nil {
		return nil, err
	}
	if err := s.checkFile(f.Name(), fi); err != nil {
		return nil, err
	}
	if dir, _ := split(name); dir == stateDir {
		// State blobs are written in place (dirHandle.rewrite): read
		// one while no write is under way, at the size it then has.
		if err := lockShared(f, fi); err != nil {
			return nil, err
		}
		if fi, err = fstat(f, f.Name()); err != nil {
			return nil, err
		}
	}
	if limit := blobLimit(name); fi.stamp.Size > limit {
		return nil, fmt.Errorf("%s: too large: %d bytes, larger than such a file can be (%d): %w", f.Name(), fi.stamp.Size, limit, ErrCorrupt)
	}
	// Other vault files are replaced by rename, never written in place:
	// the size fstat gives is the content's.
	buf := make([]byte, fi.stamp.Size)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return buf, nil
}

// Stamp is one lstat of the blob's path: inode, size and modification
// time. Writes make every new version's modification time later than the
// last (see dirHandle.replace), so equal stamps mean the same version.
// The path's directories are not checked here, to keep a hot read at one
// system call: a link in place of records/ or state/ gives another
// stamp, and the read that follows goes through directory handles and
// refuses it.
func (s *dirStore) Stamp(name string) (Stamp, error) {
	fi, err := lstatPath(filepath.Join(s.dir, filepath.FromSlash(name)))
	if errors.Is(err, fs.ErrNotExist) {
		// Missing, or missing behind a link: a link is refused.
		if dir, _ := split(name); dir != "" {
			if d, derr := lstatPath(filepath.Join(s.dir, dir)); derr == nil && d.mode&fs.ModeSymlink != 0 {
				return Stamp{}, &PermissionError{Path: filepath.Join(s.dir, dir), Mode: d.mode, Symlink: true}
			}
		}
	}
	if err != nil {
		return Stamp{}, err
	}
	if fi.mode&fs.ModeSymlink != 0 {
		return Stamp{}, &PermissionError{Path: filepath.Join(s.dir, filepath.FromSlash(name)), Mode: fi.mode, Symlink: true}
	}
	return fi.stamp, nil
}

func (s *dirStore) Write(name string, data []byte) error {
	_, err := s.write(name, data, true)
	return err
}

// WriteVolatile replaces a blob atomically, by rename, without the
// fsyncs: a crash may bring back the previous version, never a torn one.
func (s *dirStore) WriteVolatile(name string, data []byte) error {
	_, err := s.write(name, data, false)
	return err
}

// updateVolatile reads the blob name (nil when there is none, or too
// large to be one) and overwrites it in place with what fn returns,
// without fsync (see dirHandle.rewrite). It returns the new blob's stamp.
// The caller holds the vault lock.
func (s *dirStore) updateVolatile(name string, fn func(old []byte) ([]byte, error)) (Stamp, error) {
	dir, base := split(name)
	d, release, err := s.at(dir, true)
	if err != nil {
		return Stamp{}, err
	}
	defer release()
	check := func(fi fileInfo) error { return s.checkFile(d.join(base), fi) }
	st, err := d.rewrite(base, check, blobLimit(name), fn)
	if err != nil {
		return Stamp{}, fmt.Errorf("writing %s: %w", d.join(base), err)
	}
	return st, nil
}

func (s *dirStore) write(name string, data []byte, durable bool) (Stamp, error) {
	dir, base := split(name)
	d, release, err := s.at(dir, true)
	if err != nil {
		return Stamp{}, err
	}
	defer release()
	st, err := d.replace(base, data, durable)
	if err != nil {
		return Stamp{}, fmt.Errorf("writing %s: %w", d.join(base), err)
	}
	return st, nil
}

func (s *dirStore) Remove(name string) error {
	dir, base := split(name)
	d, release, err := s.at(dir, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer release()
	return d.remove(base)
}

func (s *dirStore) List(dir string) ([]string, error) {
	d, release, err := s.at(dir, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer release()
	names, err := d.names()
	if err != nil {
		return nil, err
	}
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	for i, n := range names {
		names[i] = prefix + n
	}
	return names, nil
}

func (s *dirStore) Lock(ctx context.Context, name string) (func(), error) {
	dir, file := "", ".lock"
	if name != "" {
		dir, file = "locks", name+".lock"
	}
	s.mu.Lock()
	pl := s.locks[dir+"/"+file]
	if pl == nil {
		pl = &procLock{sem: make(chan struct{}, 1)}
		s.locks[dir+"/"+file] = pl
	}
	s.mu.Unlock()
	select {
	case pl.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrLockTimeout, ctx.Err())
	}
	unlock, err := s.lock(ctx, dir, file, name == "")
	if err != nil {
		<-pl.sem
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			unlock()
			<-pl.sem
		})
	}, nil
}

func (s *dirStore) lock(ctx context.Context, dir, file string, vaultLock bool) (func(), error) {
	d, release, err := s.at(dir, true)
	if err != nil {
		return nil, err
	}
	defer release()
	p := d.join(file)
	unlock, err := d.lockFile(ctx, file, func(fi fileInfo) error { return s.checkFile(p, fi) })
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("%w (%s)", ErrLockTimeout, p)
		}
		var pe *PermissionError
		if !errors.As(err, &pe) {
			err = fmt.Errorf("locking %s: %w", p, err)
		}
		return nil, err
	}
	if vaultLock {
		// Every writer takes this lock: it checks the layout first,
		// through the handle the lock file was opened by (dir is "").
		if err := s.checkLayoutAt(d); err != nil {
			unlock()
			return nil, err
		}
	}
	return unlock, nil
}

// checkLayout checks the vault directory and its subdirectories as they
// are now: directories private to the user, no symbolic link in place of
// one. Verify and every writer call it, so a process that opened the
// vault before someone loosened its mode or swapped a directory for a
// link finds out.
func (s *dirStore) checkLayout() error {
	root, err := s.rootDir(false)
	if err != nil {
		return err
	}
	defer root.close()
	return s.checkLayoutAt(root)
}

// checkLayoutAt is checkLayout through root, an open handle of the vault
// directory.
func (s *dirStore) checkLayoutAt(root *dirHandle) error {
	fi, err := root.stat()
	if err != nil {
		return err
	}
	if err := s.checkDir(root.path, fi); err != nil {
		return err
	}
	for _, sub := range []string{recordsDir, stateDir, "locks"} {
		fi, err := root.lstat(sub)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.mode&fs.ModeSymlink != 0 {
			return &PermissionError{Path: root.join(sub), Mode: fi.mode, Symlink: true}
		}
		if err := s.checkDir(root.join(sub), fi); err != nil {
			return err
		}
	}
	return nil
}

func (s *dirStore) Close() error { return nil }

// replaceable vets the file name below d that replace is about to
// supersede: the zero fileInfo when there is none, a *PermissionError
// when it is a symbolic link or not a regular file.
func (d *dirHandle) replaceable(name string) (fileInfo, error) {
	old, err := d.lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fileInfo{}, nil
	case err != nil:
		return fileInfo{}, err
	case old.mode&fs.ModeSymlink != 0:
		return fileInfo{}, &PermissionError{Path: d.join(name), Mode: old.mode, Symlink: true}
	case !old.mode.IsRegular():
		return fileInfo{}, &PermissionError{Path: d.join(name), Mode: old.mode}
	}
	return old, nil
}

// tempName is a fresh name for a temporary file that will become name:
// "." + name + 19 random digits. Debris collection recognizes it.
func tempName(name string) string {
	var b [8]byte
	randRead(b[:])
	return "." + name + strconv.FormatUint(binary.LittleEndian.Uint64(b[:])%9e18+1e18, 10)
}

// isTempName reports whether a file name is one tempName gives.
func isTempName(name string) bool {
	if len(name) < 21 || name[0] != '.' {
		return false
	}
	for _, c := range name[len(name)-19:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// layoutChecker is implemented by stores whose layout can be unsafe
// beyond any one blob (the directory store).
type layoutChecker interface{ checkLayout() error }

// modTimer is implemented by stores that can say when a blob was last
// written, for debris collection.
type modTimer interface {
	modTime(name string) (time.Time, error)
}

func (s *dirStore) modTime(name string) (time.Time, error) {
	st, err := s.Stamp(name)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, st.ModTime), nil
}
