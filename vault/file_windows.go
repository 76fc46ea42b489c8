//go:build windows

package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/sys/windows"
)

// dirHandle is a directory of the vault. Windows has no openat: a handle
// is the directory's path, and every operation checks with Lstat that
// neither the directory nor the file is a symbolic link (or junction)
// before it acts. The check and the act are two steps: on Windows the
// vault relies on the user profile's ACLs to keep others from racing
// them.
type dirHandle struct {
	path string
}

func openDirPath(path string) (*dirHandle, error) {
	d := &dirHandle{path: path}
	if err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

// check refuses a directory that is a link or not a directory.
func (d *dirHandle) check() error {
	fi, err := os.Lstat(d.path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 || fi.Mode()&fs.ModeIrregular != 0 {
		return &PermissionError{Path: d.path, Mode: fi.Mode(), Symlink: true}
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "open", Path: d.path, Err: windows.ERROR_DIRECTORY}
	}
	return nil
}

func (d *dirHandle) close() {}

func (d *dirHandle) join(name string) string {
	if name == "." {
		return d.path
	}
	return filepath.Join(d.path, name)
}

func (d *dirHandle) sub(name string, create bool) (*dirHandle, error) {
	s := &dirHandle{path: d.join(name)}
	err := s.check()
	if errors.Is(err, fs.ErrNotExist) && create {
		if err = os.Mkdir(s.path, 0o700); err == nil || errors.Is(err, fs.ErrExist) {
			err = s.check()
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

type fileInfo struct {
	mode  fs.FileMode
	stamp Stamp
}

func toFileInfo(fi fs.FileInfo) fileInfo {
	m := fi.Mode()
	if m&fs.ModeIrregular != 0 {
		m |= fs.ModeSymlink // a reparse point: treated as a link
	}
	return fileInfo{mode: m, stamp: Stamp{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}}
}

func (d *dirHandle) lstat(name string) (fileInfo, error) {
	if err := d.check(); err != nil {
		return fileInfo{}, err
	}
	fi, err := os.Lstat(d.join(name))
	if err != nil {
		return fileInfo{}, err
	}
	return toFileInfo(fi), nil
}

func lstatPath(path string) (fileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileInfo{}, err
	}
	return toFileInfo(fi), nil
}

func (d *dirHandle) stat() (fileInfo, error) {
	fi, err := os.Lstat(d.path)
	if err != nil {
		return fileInfo{}, err
	}
	return toFileInfo(fi), nil
}

func fstat(f *os.File, _ string) (fileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileInfo{}, err
	}
	return toFileInfo(fi), nil
}

func (d *dirHandle) open(name string) (*os.File, error) {
	fi, err := d.lstat(name)
	if err != nil {
		return nil, err
	}
	if fi.mode&fs.ModeSymlink != 0 {
		return nil, &PermissionError{Path: d.join(name), Mode: fi.mode, Symlink: true}
	}
	if !fi.mode.IsRegular() {
		return nil, &PermissionError{Path: d.join(name), Mode: fi.mode}
	}
	return os.Open(d.join(name))
}

func (d *dirHandle) remove(name string) error {
	if err := d.check(); err != nil {
		return err
	}
	err := os.Remove(d.join(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (d *dirHandle) names() ([]string, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// replace writes a temporary file and moves it over name with MoveFileEx
// (renameio does not support Windows). See the Unix version.
func (d *dirHandle) replace(name string, data []byte, durable bool) (Stamp, error) {
	p := d.join(name)
	old, err := d.replaceable(name)
	if err != nil {
		return Stamp{}, err
	}
	tmp := d.join(tempName(name))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Stamp{}, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return Stamp{}, err
	}
	if durable {
		if err := f.Sync(); err != nil {
			return Stamp{}, err
		}
	}
	if err := f.Close(); err != nil {
		return Stamp{}, err
	}
	fi, err := os.Lstat(tmp)
	if err != nil {
		return Stamp{}, err
	}
	if fi.ModTime().UnixNano() <= old.stamp.ModTime {
		t := time.Unix(0, old.stamp.ModTime+int64(time.Microsecond))
		if err := os.Chtimes(tmp, t, t); err != nil {
			return Stamp{}, err
		}
		if fi, err = os.Lstat(tmp); err != nil {
			return Stamp{}, err
		}
	}
	from, err := windows.UTF16PtrFromString(tmp)
	if err != nil {
		return Stamp{}, err
	}
	to, err := windows.UTF16PtrFromString(p)
	if err != nil {
		return Stamp{}, err
	}
	flags := uint32(windows.MOVEFILE_REPLACE_EXISTING)
	if durable {
		flags |= windows.MOVEFILE_WRITE_THROUGH
	}
	if err := windows.MoveFileEx(from, to, flags); err != nil {
		return Stamp{}, fmt.Errorf("rename %s: %w", p, err)
	}
	ok = true
	return toFileInfo(fi).stamp, nil
}

func (d *dirHandle) lockFile(ctx context.Context, name string, checkFile func(fileInfo) error) (func(), error) {
	p := d.join(name)
	if fi, err := d.lstat(name); err == nil {
		if fi.mode&fs.ModeSymlink != 0 {
			return nil, &PermissionError{Path: p, Mode: fi.mode, Symlink: true}
		}
		if err := checkFile(fi); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	fl := flock.New(p, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, lockPoll)
	if err != nil || !ok {
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	return func() { _ = fl.Unlock() }, nil
}

// Windows modes do not express group or other access (ACLs do); the
// vault directory should live in the user's profile.
func modeIsLoose(fs.FileMode) bool { return false }

// rewrite replaces the file name below d with what fn returns, by
// rename as replace does: without flock there is no guarding a write in
// place from readers.
func (d *dirHandle) rewrite(name string, check func(fileInfo) error, limit int64, fn func(old []byte) ([]byte, error)) (Stamp, error) {
	blob, err := d.readFile(name, check, limit)
	if err != nil {
		return Stamp{}, err
	}
	data, err := fn(blob)
	if err != nil {
		return Stamp{}, err
	}
	return d.replace(name, data, false)
}

// readFile reads the regular file name below d, nil when it is missing
// or larger than limit.
func (d *dirHandle) readFile(name string, check func(fileInfo) error, limit int64) ([]byte, error) {
	f, err := d.open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := fstat(f, f.Name())
	if err == nil {
		err = check(fi)
	}
	if err != nil || fi.stamp.Size > limit {
		return nil, err
	}
	return io.ReadAll(f)
}

// lockShared does nothing: on Windows nothing is written in place.
func lockShared(*os.File, fileInfo) error { return nil }
