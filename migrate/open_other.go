//go:build !unix

package migrate

import "os"

const openFlags = os.O_RDONLY
