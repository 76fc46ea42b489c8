package keysource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/authvault/authvault/internal/fsync"
)

// ErrIncorrectPassphrase is wrapped by the error of [File.Identities] when a
// passphrase-protected key file does not open with the passphrase given.
var ErrIncorrectPassphrase = errors.New("incorrect passphrase")

// ErrNotKeyFile is wrapped by the error of [File.Identities] (and of
// [Env] for AUTHVAULT_KEY_FILE) when the path names a symbolic link, a
// FIFO, a socket, a device or a directory: a key file is read only when
// it is a regular file, so that nothing can redirect or block the read.
var ErrNotKeyFile = errors.New("not a regular file (a key file is never read through a symbolic link, a FIFO, a socket or a device)")

var errSymlink = fmt.Errorf("a symbolic link: %w", ErrNotKeyFile)

// ErrNoPassphrase is wrapped by the error of [File.Identities] when a key file
// is passphrase-protected and there is no way to get the passphrase.
var ErrNoPassphrase = errors.New("no passphrase (set " + EnvPassphrase + ", or run in a terminal to be asked)")

// DefaultFilePath returns the default key file: key.txt in the authvault
// directory of the user config directory ([os.UserConfigDir]), e.g.
// ~/.config/authvault/key.txt on Linux.
func DefaultFilePath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "authvault", "key.txt"), nil
}

// File keeps the vault key in a file in the age identity-file format,
// optionally encrypted with a passphrase (an age scrypt file, armored or
// binary, as "age -p -a" writes it).
//
// On systems other than Windows, a key file that its group or others may
// access is refused: the error wraps ErrInsecureFile and says how to fix
// it.
type File struct {
	// Path is the key file; "" means DefaultFilePath.
	Path string

	// Getenv reads AUTHVAULT_PASSPHRASE; nil means os.Getenv.
	Getenv func(string) string

	// Prompt asks the user for the passphrase of a protected key file when
	// AUTHVAULT_PASSPHRASE is not set. The caller zeroes the returned
	// slice. nil means: read it from the terminal, without echo, when
	// standard input is a terminal; otherwise fail with ErrNoPassphrase.
	Prompt func(prompt string) ([]byte, error)

	// scryptLogN is the scrypt work factor StoreEncrypted uses; 0 means
	// age's default. Tests lower it.
	scryptLogN int
}

var _ Store = (*File)(nil)

func (f *File) path() (string, error) {
	if f.Path != "" {
		return f.Path, nil
	}
	return DefaultFilePath()
}

// Name returns "file " followed by the path.
func (f *File) Name() string {
	p, err := f.path()
	if err != nil {
		return "file"
	}
	return "file " + p
}

// Identities reads the key file. A missing file gives a *NotFoundError; a
// wrong passphrase an error wrapping ErrIncorrectPassphrase.
func (f *File) Identities(ctx context.Context) ([]age.Identity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := f.path()
	if err != nil {
		return nil, &NotFoundError{Source: "file", Reason: "file: no user config directory: " + err.Error()}
	}
	g := *f
	g.Path = path
	return g.read(ctx, "file "+path)
}

// read reads f.Path, which is set. label names the file in errors.
func (f *File) read(ctx context.Context, label string) ([]age.Identity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fh, err := openKeyFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Source: f.Name(), Reason: label + ": not found"}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, unwrapPath(err))
	}
	defer fh.Close()

	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, unwrapPath(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", label, ErrNotKeyFile, st.Mode().Type())
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, &insecureFileError{Path: f.Path, Mode: st.Mode().Perm(), label: label}
	}
	if st.Size() > maxKeyData {
		return nil, fmt.Errorf("%s: longer than %d KiB", label, maxKeyData>>10)
	}

	buf := make([]byte, maxKeyData+1)
	defer clear(buf)
	n, err := io.ReadFull(fh, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", label, unwrapPath(err))
	}
	if n > maxKeyData {
		return nil, fmt.Errorf("%s: longer than %d KiB", label, maxKeyData>>10)
	}
	data := buf[:n]

	if encrypted, armored := ageEncrypted(data); encrypted {
		return f.decrypt(label, data, armored)
	}
	ids, err := ParseIdentities(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return ids, nil
}

// ageEncrypted reports whether data is an age file rather than identities.
func ageEncrypted(data []byte) (encrypted, armored bool) {
	if bytes.HasPrefix(data, []byte("age-encryption.org/")) {
		return true, false
	}
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(armor.Header)) {
		return true, true
	}
	return false, false
}

func (f *File) decrypt(label string, data []byte, armored bool) ([]age.Identity, error) {
	pass, err := f.passphrase()
	if err != nil {
		return nil, fmt.Errorf("%s is passphrase-protected: %w", label, err)
	}
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	var src io.Reader = bytes.NewReader(data)
	if armored {
		src = armor.NewReader(src)
	}
	r, err := age.Decrypt(src, id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			if slices.Contains(nm.StanzaTypes, "scrypt") {
				return nil, fmt.Errorf("%s: %w", label, ErrIncorrectPassphrase)
			}
			return nil, fmt.Errorf("%s: encrypted to a key, not with a passphrase", label)
		}
		return nil, fmt.Errorf("%s: not a valid age file: %s", label, safeMessage(err))
	}
	plain := make([]byte, maxKeyData+1)
	defer clear(plain)
	n, err := io.ReadFull(r, plain)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("%s: decrypting: %s", label, safeMessage(err))
	}
	if n > maxKeyData {
		return nil, fmt.Errorf("%s: longer than %d KiB", label, maxKeyData>>10)
	}
	ids, err := ParseIdentities(plain[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: decrypted, but %w", label, err)
	}
	return ids, nil
}

func (f *File) passphrase() (string, error) {
	getenv := f.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if p := getenv(EnvPassphrase); p != "" {
		return p, nil
	}
	prompt := f.Prompt
	if prompt == nil {
		prompt = terminalPrompt
	}
	b, err := prompt("Passphrase for " + f.Path + ": ")
	defer clear(b)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", errors.New("empty passphrase")
	}
	return string(b), nil
}

// ErrInsecureFile is wrapped by the error for a key file that users other
// than its owner may access. It is not returned on Windows, where
// permissions are ACLs.
var ErrInsecureFile = errors.New("a key file others may access")

// insecureFileError is an ErrInsecureFile naming the file, its mode and
// the command that fixes it.
type insecureFileError struct {
	Path  string
	Mode  fs.FileMode
	label string
}

func (e *insecureFileError) Is(target error) bool { return target == ErrInsecureFile }

func (e *insecureFileError) Error() string {
	label := e.label
	if label == "" {
		label = "file " + e.Path
	}
	return fmt.Sprintf("%s: group or others may access it (mode %04o); fix with: chmod 600 %s",
		label, uint32(e.Mode.Perm()), shellQuote(e.Path))
}

// Has reports whether the key file exists.
func (f *File) Has(ctx context.Context) (bool, error) {
	path, err := f.path()
	if err != nil {
		return false, fmt.Errorf("file: no user config directory: %w", err)
	}
	_, err = os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("file %s: %w", path, unwrapPath(err))
	}
}

// Store writes identity to a new key file with mode 0600, creating its
// directory with mode 0700. The file appears whole or not at all, and an
// existing file is not replaced: the error then wraps ErrKeyExists. (On file
// systems without hard links the guarantee weakens to a check just before
// a rename.)
func (f *File) Store(ctx context.Context, identity string) error {
	return f.store(ctx, identity, "")
}

// StoreEncrypted is Store, but the file is encrypted with passphrase (an
// armored age scrypt file), which is then needed to read it.
func (f *File) StoreEncrypted(ctx context.Context, identity, passphrase string) error {
	if passphrase == "" {
		return errors.New(f.Name() + ": empty passphrase")
	}
	return f.store(ctx, identity, passphrase)
}

func (f *File) store(ctx context.Context, identity, passphrase string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := f.path()
	if err != nil {
		return fmt.Errorf("file: no user config directory: %w", err)
	}
	label := "file " + path

	raw := []byte(identity)
	defer clear(raw)
	ids, err := parseIdentities(raw, false)
	if err != nil {
		return fmt.Errorf("%s: not storing an invalid key: %w", label, err)
	}
	content := keyFileContent(raw, ids)
	defer clear(content)
	if passphrase != "" {
		content, err = encryptWithPassphrase(content, passphrase, f.scryptLogN)
		if err != nil {
			return fmt.Errorf("%s: %s", label, safeMessage(err))
		}
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%s: %w", label, unwrapPath(err))
	}
	if err := writeNewFile(path, content); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: %w", label, ErrKeyExists)
		}
		return fmt.Errorf("%s: %w", label, unwrapPath(err))
	}
	return nil
}

// keyFileContent lays out a key file the way age-keygen does, with the
// public keys as comments so that the file tells what it unlocks.
func keyFileContent(raw []byte, ids []age.Identity) []byte {
	header := "# authvault vault key, created " + time.Now().UTC().Format(time.RFC3339) + "\n"
	for _, id := range ids {
		if r := recipientOf(id); r != "" {
			header += "# public key: " + r + "\n"
		}
	}
	// Sized up front: appends must not reallocate and strand a copy.
	b := make([]byte, 0, len(header)+len(raw)+1)
	b = append(b, header...)
	b = append(b, raw...)
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		b = append(b, '\n')
	}
	return b
}

func encryptWithPassphrase(plain []byte, passphrase string, logN int) ([]byte, error) {
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	if logN > 0 {
		r.SetWorkFactor(logN)
	}
	var out bytes.Buffer
	aw := armor.NewWriter(&out)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// writeNewFile atomically creates path with data and mode 0600, failing with
// an error wrapping fs.ErrExist if path exists. The data goes to a temporary
// file first, which is then hard-linked to path: link(2) never replaces.
func writeNewFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".key-*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(name, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// No hard links on this file system: fall back to a rename, which
		// leaves a small window in which a file created by someone else
		// could be replaced.
		if _, err := os.Lstat(path); err == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.Rename(name, path); err != nil {
			return err
		}
	}
	return fsync.Dir(dir)
}

// Delete removes the key file. A missing file gives a *NotFoundError.
func (f *File) Delete(ctx context.Context) error {
	path, err := f.path()
	if err != nil {
		return fmt.Errorf("file: no user config directory: %w", err)
	}
	err = os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{Source: f.Name(), Reason: "file " + path + ": not found"}
	}
	if err != nil {
		return fmt.Errorf("file %s: %w", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the *fs.PathError around err: our messages name the file
// already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// safeMessage returns err's text, unless it might quote key material.
func safeMessage(err error) string {
	msg := err.Error()
	if mayHoldKey(msg) {
		return "(details not shown: they may contain a key)"
	}
	return msg
}

// shellQuote quotes path for a POSIX shell when it needs quoting, so that
// the chmod command in a message can be pasted as is.
func shellQuote(path string) string {
	if path != "" && !strings.ContainsAny(path, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
