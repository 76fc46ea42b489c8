package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/authvault/authvault/records"
)

// Errors a caller can branch on with errors.Is. None of them, nor any error
// this package returns, contains secret material.
var (
	// ErrNotFound: no record (or state blob) by that name.
	ErrNotFound = errors.New("not found")
	// ErrExists: Create found a vault already there.
	ErrExists = errors.New("vault already exists")
	// ErrNoVault: Open found no vault header in the directory.
	ErrNoVault = errors.New("no vault in directory")
	// ErrWrongKey: none of the given identities opens a key slot.
	ErrWrongKey = errors.New("no identity matches a key slot of this vault")
	// ErrTampered: a blob failed authentication: modified, truncated,
	// moved to another name, or swapped with another.
	ErrTampered = records.ErrTampered
	// ErrRollback: a record or the manifest is older than what the vault
	// has already committed.
	ErrRollback = errors.New("rollback detected: blob is older than the committed state")
	// ErrMissing: the manifest names a record whose file is gone.
	ErrMissing = errors.New("record file missing")
	// ErrLockTimeout: the vault lock was not acquired before the context
	// ended.
	ErrLockTimeout = errors.New("timed out waiting for the vault lock")
	// ErrPermissions: a vault file or directory is accessible to other
	// users, or is a symlink.
	ErrPermissions = errors.New("unsafe file permissions")
	// ErrUnsupportedVersion: the vault was written by a newer authvault.
	ErrUnsupportedVersion = errors.New("unsupported vault format version")
	// ErrClosed: the vault was closed.
	ErrClosed = errors.New("vault is closed")
	// ErrCorrupt: a header or manifest is malformed (after authentication,
	// this means a bug or a format mismatch; before it, tampering).
	ErrCorrupt = errors.New("corrupt vault file")
)

// PermissionError reports a file or directory that other users could read
// or write, or a symlink, FIFO, socket or device where a regular file (or
// directory) must be.
type PermissionError struct {
	Path string
	Mode fs.FileMode
	// Symlink is set when the path is a symbolic link, which the vault
	// never follows.
	Symlink bool
}

func (e *PermissionError) Error() string {
	if e.Symlink {
		return fmt.Sprintf("%s is a symbolic link; the vault does not follow links: replace it with the real file", e.Path)
	}
	if t := e.Mode.Type(); t != 0 && t != fs.ModeDir {
		return fmt.Sprintf("%s is not a regular file (%s); the vault reads only regular files: remove it", e.Path, typeName(t))
	}
	want := "600"
	if e.Mode.IsDir() {
		want = "700"
	}
	return fmt.Sprintf("%s has mode %#o, readable or writable by other users: run chmod %s %s", e.Path, e.Mode.Perm(), want, e.Path)
}

func (e *PermissionError) Unwrap() error { return ErrPermissions }

// RecordError ties an error to the record it concerns.
type RecordError struct {
	ID  records.ID
	Err error
}

func (e *RecordError) Error() string { return "record " + e.ID.String() + ": " + e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

// VerifyError lists every problem Verify found.
type VerifyError struct {
	Problems []error
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vault integrity: %d problem(s)", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("; ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is find any of the problems' causes.
func (e *VerifyError) Unwrap() []error { return e.Problems }

func typeName(t fs.FileMode) string {
	switch {
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + t.String()
}
