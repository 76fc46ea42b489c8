//go:build !windows

package vault

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// dirHandle is an open directory of the vault. Everything below it is
// reached relative to the handle (openat, fstatat, unlinkat, renameat)
// and never through a symbolic link: O_NOFOLLOW on every open,
// AT_SYMLINK_NOFOLLOW on every stat.
type dirHandle struct {
	f    *os.File
	path string // for messages
}

func retryEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

func pathErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// openDirPath opens the directory at path, refusing a symlink in its last
// component.
func openDirPath(path string) (*dirHandle, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, &PermissionError{Path: path, Mode: fi.Mode(), Symlink: true}
		}
		return nil, pathErr("open", path, err)
	}
	return &dirHandle{f: os.NewFile(uintptr(fd), path), path: path}, nil
}

func (d *dirHandle) close() { d.f.Close() }

func (d *dirHandle) join(name string) string {
	if name == "." {
		return d.path
	}
	return d.path + string(os.PathSeparator) + name
}

// fd runs fn with the handle's descriptor.
func (d *dirHandle) fd(fn func(fd int) error) error {
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = retryEINTR(func() error { return fn(int(fd)) }) }); err != nil {
		return err
	}
	return ferr
}

// sub opens the directory name below d, creating it 0700 first when
// create is set.
func (d *dirHandle) sub(name string, create bool) (*dirHandle, error) {
	p := d.join(name)
	var fd int
	open := func() error {
		return d.fd(func(dfd int) (err error) {
			fd, err = unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			return err
		})
	}
	err := open()
	if err == unix.ENOENT && create {
		err = d.fd(func(dfd int) error { return unix.Mkdirat(dfd, name, 0o700) })
		if err == nil || err == unix.EEXIST {
			if err = d.f.Sync(); err == nil || errors.Is(err, unix.EINVAL) {
				err = open()
			}
		}
	}
	if err != nil {
		// O_NOFOLLOW with O_DIRECTORY says ENOTDIR for a symlink on
		// Linux, ELOOP elsewhere: ask the entry itself.
		if fi, serr := d.lstat(name); serr == nil && fi.mode&fs.ModeSymlink != 0 {
			return nil, &PermissionError{Path: p, Mode: fi.mode, Symlink: true}
		}
		return nil, pathErr("open", p, err)
	}
	return &dirHandle{f: os.NewFile(uintptr(fd), p), path: p}, nil
}

// fileInfo is what the vault needs from a stat.
type fileInfo struct {
	mode  fs.FileMode
	links uint64 // hard links to the file
	stamp Stamp
}

func toFileInfo(st *unix.Stat_t) fileInfo {
	m := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFREG:
	default:
		m |= fs.ModeIrregular
	}
	return fileInfo{mode: m, links: uint64(st.Nlink), stamp: Stamp{Version: uint64(st.Ino), Size: st.Size, ModTime: st.Mtim.Nano()}}
}

// lstat stats name below d without following a symlink.
func (d *dirHandle) lstat(name string) (fileInfo, error) {
	var st unix.Stat_t
	err := d.fd(func(dfd int) error { return unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	if err != nil {
		return fileInfo{}, pathErr("stat", d.join(name), err)
	}
	return toFileInfo(&st), nil
}

// lstatPath stats path without following a symlink in its last
// component.
func lstatPath(path string) (fileInfo, error) {
	var st unix.Stat_t
	if err := retryEINTR(func() error { return unix.Lstat(path, &st) }); err != nil {
		return fileInfo{}, pathErr("lstat", path, err)
	}
	return toFileInfo(&st), nil
}

// stat stats the directory itself.
func (d *dirHandle) stat() (fileInfo, error) { return fstat(d.f, d.path) }

func fstat(f *os.File, path string) (fileInfo, error) {
	var st unix.Stat_t
	rc, err := f.SyscallConn()
	if err != nil {
		return fileInfo{}, err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil {
		return fileInfo{}, err
	}
	if serr != nil {
		return fileInfo{}, pathErr("stat", path, serr)
	}
	return toFileInfo(&st), nil
}

// open opens name below d for reading. O_NONBLOCK makes opening a FIFO
// return at once instead of waiting for a writer; the caller checks with
// fstat that it opened a regular file before reading.
func (d *dirHandle) open(name string) (*os.File, error) {
	p := d.join(name)
	var fd int
	err := d.fd(func(dfd int) (err error) {
		fd, err = unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		return err
	})
	if err == unix.ELOOP {
		return nil, &PermissionError{Path: p, Mode: fs.ModeSymlink, Symlink: true}
	}
	if err != nil && err != unix.ENOENT {
		// A socket gives ENXIO, a device may give anything.
		if fi, serr := d.lstat(name); serr == nil && !fi.mode.IsRegular() {
			return nil, &PermissionError{Path: p, Mode: fi.mode, Symlink: fi.mode&fs.ModeSymlink != 0}
		}
	}
	if err != nil {
		return nil, pathErr("open", p, err)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// remove unlinks the file name below d; a missing one is not an error.
func (d *dirHandle) remove(name string) error {
	err := d.fd(func(dfd int) error { return unix.Unlinkat(dfd, name, 0) })
	if err == unix.ENOENT {
		return nil
	}
	return pathErr("remove", d.join(name), err)
}

// names lists the directory, through a descriptor of its own so that
// concurrent listings do not share a position.
func (d *dirHandle) names() ([]string, error) {
	l, err := d.sub(".", false)
	if err != nil {
		return nil, err
	}
	defer l.close()
	return l.f.Readdirnames(-1)
}

// replace writes data to a new temporary file below d, with a random
// name, O_EXCL and O_NOFOLLOW, and renames it over name: readers see the
// old file or the new one, never a mix. durable adds the fsyncs of the
// file and the directory. It returns the new file's stamp.
//
// The new file's modification time is made later than the one it
// replaces, so that a stamp (inode, size, modification time) never
// repeats for a name, even when the filesystem reuses an inode within
// one tick of its clock.
func (d *dirHandle) replace(name string, data []byte, durable bool) (Stamp, error) {
	p := d.join(name)
	old, err := d.replaceable(name)
	if err != nil {
		return Stamp{}, err
	}
	tmp, f, err := d.createTemp(name)
	if err != nil {
		return Stamp{}, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			d.remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return Stamp{}, err
	}
	fi, err := fstat(f, p)
	if err != nil {
		return Stamp{}, err
	}
	if fi.stamp.ModTime <= old.stamp.ModTime {
		t := unix.NsecToTimespec(old.stamp.ModTime + int64(time.Microsecond))
		if err := d.fd(func(dfd int) error {
			return unix.UtimesNanoAt(dfd, tmp, []unix.Timespec{t, t}, unix.AT_SYMLINK_NOFOLLOW)
		}); err != nil {
			return Stamp{}, pathErr("utimes", p, err)
		}
		if fi, err = fstat(f, p); err != nil {
			return Stamp{}, err
		}
	}
	if durable {
		if err := f.Sync(); err != nil {
			return Stamp{}, err
		}
	}
	if err := f.Close(); err != nil {
		return Stamp{}, err
	}
	if err := d.fd(func(dfd int) error { return unix.Renameat(dfd, tmp, dfd, name) }); err != nil {
		return Stamp{}, pathErr("rename", p, err)
	}
	ok = true
	if durable {
		if err := d.f.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
			return Stamp{}, err
		}
	}
	return fi.stamp, nil
}

// createTemp creates a new, empty, private file below d named for name.
func (d *dirHandle) createTemp(name string) (string, *os.File, error) {
	for try := 0; ; try++ {
		tmp := tempName(name)
		var fd int
		err := d.fd(func(dfd int) (err error) {
			fd, err = unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
			return err
		})
		if err == unix.EEXIST && try < 8 {
			continue
		}
		if err != nil {
			return "", nil, pathErr("create", d.join(tmp), err)
		}
		// The mode is 0600 whatever the umask.
		if err := unix.Fchmod(fd, 0o600); err != nil {
			unix.Close(fd)
			d.remove(tmp)
			return "", nil, pathErr("chmod", d.join(tmp), err)
		}
		return tmp, os.NewFile(uintptr(fd), d.join(tmp)), nil
	}
}

// lockFile takes an exclusive flock on the file name below d (created
// 0600 if missing), polling until ctx ends. checkFile vets what was
// opened before it is locked.
func (d *dirHandle) lockFile(ctx context.Context, name string, checkFile func(fileInfo) error) (func(), error) {
	p := d.join(name)
	var fd int
	err := d.fd(func(dfd int) (err error) {
		fd, err = unix.Openat(dfd, name, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0o600)
		return err
	})
	if err == unix.ELOOP {
		return nil, &PermissionError{Path: p, Mode: fs.ModeSymlink, Symlink: true}
	}
	if err != nil {
		return nil, pathErr("open", p, err)
	}
	f := os.NewFile(uintptr(fd), p)
	fi, err := fstat(f, p)
	if err == nil {
		err = checkFile(fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	var t *time.Timer
	for {
		err := retryEINTR(func() error { return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) })
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if err != unix.EWOULDBLOCK {
			f.Close()
			return nil, pathErr("flock", p, err)
		}
		if t == nil {
			t = time.NewTimer(lockPoll)
			defer t.Stop()
		} else {
			t.Reset(lockPoll)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func modeIsLoose(m fs.FileMode) bool { return m.Perm()&0o077 != 0 }

// rewrite reads the regular file name below d (nil when there is none)
// and overwrites it in place with what fn returns, holding an exclusive
// flock of the file itself; readers of such a file take it shared (see
// lockShared), so none sees a write half done. check vets the file
// before it is read, limit bounds its size.
//
// Writing in place is for state blobs: on ext4, replacing a file by
// rename starts the new file's writeback at once, some hundred times the
// cost of the write itself. A crash in the middle of the write leaves a
// torn blob, which fails authentication and is started afresh: state
// holds nothing that must survive a crash.
//
// As with replace, the new version's modification time is made later
// than the old one's, so the stamp changes with every write.
func (d *dirHandle) rewrite(name string, check func(fileInfo) error, limit int64, fn func(old []byte) ([]byte, error)) (Stamp, error) {
	p := d.join(name)
	// A raw descriptor: this hot path needs none of os.File's poller
	// set-up.
	var fd int
	err := d.fd(func(dfd int) (err error) {
		fd, err = unix.Openat(dfd, name, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0o600)
		return err
	})
	if err != nil {
		if fi, serr := d.lstat(name); serr == nil && !fi.mode.IsRegular() {
			return Stamp{}, &PermissionError{Path: p, Mode: fi.mode, Symlink: fi.mode&fs.ModeSymlink != 0}
		}
		return Stamp{}, pathErr("open", p, err)
	}
	defer unix.Close(fd) // closing releases the flock
	stat := func() (fileInfo, error) {
		var st unix.Stat_t
		if err := retryEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
			return fileInfo{}, pathErr("stat", p, err)
		}
		return toFileInfo(&st), nil
	}
	old, err := stat()
	if err == nil {
		err = check(old)
	}
	if err != nil {
		return Stamp{}, err
	}
	// A file with other links (planted: the vault makes none) is read,
	// unlocked, and replaced by rename below, never written through. It
	// may be the lock file this process holds: taking its flock again
	// would wait for ever.
	if old.links == 1 {
		if err := flockFile(fd, unix.LOCK_EX); err != nil {
			return Stamp{}, pathErr("flock", p, err)
		}
		if old, err = stat(); err != nil {
			return Stamp{}, err
		}
	}
	var blob []byte
	if size := old.stamp.Size; size > 0 && size <= limit {
		// Larger than limit, it cannot be the blob: replaced as if
		// there were none.
		blob = make([]byte, size)
		for n := 0; n < len(blob); {
			var k int
			err := retryEINTR(func() (err error) { k, err = unix.Pread(fd, blob[n:], int64(n)); return err })
			if err == nil && k == 0 {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				return Stamp{}, pathErr("read", p, err)
			}
			n += k
		}
	}
	data, err := fn(blob)
	if err != nil {
		return Stamp{}, err
	}
	if old.links > 1 {
		// A hard link planted at the blob's name: replace it rather than
		// write through it into another file.
		return d.replace(name, data, false)
	}
	for n := 0; n < len(data); {
		var k int
		if err := retryEINTR(func() (err error) { k, err = unix.Pwrite(fd, data[n:], int64(n)); return err }); err != nil {
			return Stamp{}, pathErr("write", p, err)
		}
		n += k
	}
	if int64(len(data)) < old.stamp.Size {
		if err := retryEINTR(func() error { return unix.Ftruncate(fd, int64(len(data))) }); err != nil {
			return Stamp{}, pathErr("truncate", p, err)
		}
	}
	fi, err := stat()
	if err != nil {
		return Stamp{}, err
	}
	if fi.stamp.ModTime <= old.stamp.ModTime {
		// Timevals hold microseconds: one more than the old time,
		// truncated, is still later than it.
		t := unix.NsecToTimeval(old.stamp.ModTime + int64(time.Microsecond))
		if err := unix.Futimes(fd, []unix.Timeval{t, t}); err != nil {
			return Stamp{}, pathErr("utimes", p, err)
		}
		if fi, err = stat(); err != nil {
			return Stamp{}, err
		}
	}
	return fi.stamp, nil
}

// lockShared takes a shared flock of f, a file that rewrite may be
// writing in place, for the time it is read. fi is f's stat: a file with
// other links is not written in place, nor locked.
func lockShared(f *os.File, fi fileInfo) error {
	if fi.links != 1 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = flockFile(int(fd), unix.LOCK_SH) }); err != nil {
		return err
	}
	return pathErr("flock", f.Name(), ferr)
}

// flockWait bounds how long flockFile waits. A state file's flock is held
// for one read or one write of a small blob; the bound only keeps a file
// locked by something else from hanging the vault.
const flockWait = 10 * time.Second

// flockFile takes the flock how (LOCK_EX, LOCK_SH) of fd, polling so
// that the wait is bounded; it returns ErrLockTimeout past flockWait.
func flockFile(fd, how int) error {
	var deadline time.Time
	for pause := 20 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		err := retryEINTR(func() error { return unix.Flock(fd, how|unix.LOCK_NB) })
		if err != unix.EWOULDBLOCK {
			return err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(flockWait)
		} else if time.Now().After(deadline) {
			return ErrLockTimeout
		}
		time.Sleep(pause)
	}
}
