//go:build windows

package vault

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// Windows has no O_NOFOLLOW; openNoFollow checks with Lstat first.
const oNoFollow = 0

var errSymlink = errors.New("is a symbolic link")

// openNoFollow opens path, for reading and writing when rw is set,
// refusing a symlink.
func openNoFollow(path string, rw bool) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink
	}
	if rw {
		return os.OpenFile(path, os.O_RDWR, 0)
	}
	return os.Open(path)
}

func isSymlinkErr(err error) bool { return errors.Is(err, errSymlink) }

func inode(fs.FileInfo) uint64 { return 0 }

// hardLinked reports whether the open file f has more than one name.
func hardLinked(f *os.File, _ fs.FileInfo) bool {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return true
	}
	return info.NumberOfLinks != 1
}

// Windows modes do not express group or other access (ACLs do); the
// vault directory should live in the user's profile.
func modeIsLoose(fs.FileMode) bool { return false }

// atomicWrite writes a temporary file in dir, flushes it and replaces path
// with MoveFileEx (renameio does not support Windows).
func atomicWrite(dir, path string, data []byte, durable bool) error {
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	from, err := windows.UTF16PtrFromString(tmp)
	if err != nil {
		return err
	}
	to, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	flags := uint32(windows.MOVEFILE_REPLACE_EXISTING)
	if durable {
		flags |= windows.MOVEFILE_WRITE_THROUGH
	}
	if err := windows.MoveFileEx(from, to, flags); err != nil {
		return err
	}
	ok = true
	return nil
}

// openDirNoFollow opens a directory, refusing a symlink.
func openDirNoFollow(path string) (*os.File, error) { return openNoFollow(path, false) }

// openAt opens the file at path in the directory d, refusing a symlink at
// either level (Windows has no openat: the directory is checked by path).
func openAt(d *os.File, _, path string, rw bool) (*os.File, error) {
	if fi, err := os.Lstat(filepath.Dir(path)); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlink
	}
	return openNoFollow(path, rw)
}

// mapChanges is not available on Windows: readers stat every time.
func mapChanges(string, bool, bool) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapChanges([]byte) {}
