// Package fsync makes directory entries durable, for the packages that
// write files by rename (the vault, the key file, the CLI's outputs).
package fsync

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
)

// Dir makes renames and new entries in dir durable. Windows has no such
// call and needs none (a rename there is made durable by the rename
// itself, MOVEFILE_WRITE_THROUGH); a filesystem that cannot sync a
// directory (EINVAL) is not an error either.
func Dir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}
