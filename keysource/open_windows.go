//go:build windows

package keysource

import (
	"io/fs"
	"os"
)

// openKeyFile opens a key file for reading, refusing a symbolic link
// (checked with Lstat first: Windows has no O_NOFOLLOW) and anything but
// a regular file before opening it.
func openKeyFile(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return nil, errSymlink
	}
	if !fi.Mode().IsRegular() {
		return nil, ErrNotKeyFile
	}
	return os.Open(path)
}
