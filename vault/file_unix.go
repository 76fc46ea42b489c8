//go:build !windows

package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"
	"golang.org/x/sys/unix"
)

const oNoFollow = syscall.O_NOFOLLOW

// openNoFollow opens path, for reading and writing when rw is set,
// refusing a symlink.
func openNoFollow(path string, rw bool) (*os.File, error) {
	return os.OpenFile(path, accessMode(rw)|syscall.O_NOFOLLOW, 0)
}

func accessMode(rw bool) int {
	if rw {
		return os.O_RDWR
	}
	return os.O_RDONLY
}

// isSymlinkErr recognizes the ELOOP that O_NOFOLLOW gives for a symlink.
func isSymlinkErr(err error) bool { return errors.Is(err, syscall.ELOOP) }

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// hardLinked reports whether the open file f has more than one name.
func hardLinked(_ *os.File, fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || st.Nlink != 1
}

func modeIsLoose(m fs.FileMode) bool { return m.Perm()&0o077 != 0 }

// atomicWrite writes data to a temporary file in dir, fsyncs it (when
// durable) and renames it over path.
func atomicWrite(dir, path string, data []byte, durable bool) error {
	if durable {
		return renameio.WriteFile(path, data, 0o600, renameio.WithTempDir(dir), renameio.WithStaticPermissions(0o600))
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// openDirNoFollow opens a directory, refusing a symlink.
func openDirNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
}

// openAt opens base in the directory d without following a symlink, for
// reading and writing when rw is set; path names the file in errors.
func openAt(d *os.File, base, path string, rw bool) (*os.File, error) {
	var fd int
	var err error
	cerr := withFd(d, func(dfd int) {
		for {
			fd, err = unix.Openat(dfd, base, accessMode(rw)|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != unix.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// withFd runs fn with d's descriptor, keeping d open meanwhile.
func withFd(d *os.File, fn func(int)) error {
	rc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { fn(int(fd)) })
}

// mapChanges opens (creating it 0600 if missing and create is set) and
// maps the change counters file, refusing a symlink, a non-regular file
// and, unless insecure, one that others can access. The file only ever
// grows.
func mapChanges(path string, insecure, create bool) ([]byte, error) {
	flags := unix.O_RDWR | unix.O_NOFOLLOW | unix.O_CLOEXEC
	if create {
		flags |= unix.O_CREAT
	}
	fd, err := unix.Open(path, flags, 0o600)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || !insecure && st.Mode&0o077 != 0 {
		return nil, fmt.Errorf("%s: not a private regular file: %w", path, ErrPermissions)
	}
	if st.Size < changesSize {
		if err := unix.Ftruncate(fd, changesSize); err != nil {
			return nil, &fs.PathError{Op: "truncate", Path: path, Err: err}
		}
	}
	mem, err := unix.Mmap(fd, 0, changesSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, &fs.PathError{Op: "mmap", Path: path, Err: err}
	}
	return mem, nil
}

func unmapChanges(mem []byte) { _ = unix.Munmap(mem) }
