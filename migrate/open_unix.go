//go:build unix

package migrate

import (
	"os"
	"syscall"
)

// O_NONBLOCK makes opening a FIFO return at once (and the type check then
// refuses it); for regular files and devices it changes nothing.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
