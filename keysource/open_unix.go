//go:build !windows

package keysource

import (
	"errors"
	"os"
	"syscall"
)

// openKeyFile opens a key file for reading without following a symbolic
// link in its last component, and without blocking: a FIFO opens at
// once (the caller then refuses it, as anything but a regular file).
func openKeyFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil && errors.Is(err, syscall.ELOOP) {
		return nil, errSymlink
	}
	return f, err
}
