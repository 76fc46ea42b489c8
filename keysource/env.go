package keysource

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"time"

	"filippo.io/age"
)

// The environment variables read by [Env] and [File].
const (
	// EnvKey holds the vault key itself: one or more identities in the age
	// identity-file format.
	EnvKey = "AUTHVAULT_KEY"
	// EnvKeyFile holds the path of an identity file, read like [File] reads
	// one (permissions checked, passphrase protection supported).
	EnvKeyFile = "AUTHVAULT_KEY_FILE"
	// EnvKeyCommand holds a command whose standard output is the vault key,
	// e.g. "pass show authvault/key" or "op read op://vault/authvault/key".
	// It is split into words without a shell: words are separated by white
	// space; '…' and "…" quote literally (a quote character is written with
	// the other kind of quote); backslashes are ordinary characters; there
	// are no variables, globs, pipes or redirections. For those, name a
	// script.
	EnvKeyCommand = "AUTHVAULT_KEY_CMD"
	// EnvPassphrase holds the passphrase of a passphrase-protected key file.
	// Without it, the passphrase is asked for on the terminal.
	EnvPassphrase = "AUTHVAULT_PASSPHRASE"
)

// Env finds the vault key through the environment, the way headless servers
// and CI provide it: in AUTHVAULT_KEY itself, in the file named by
// AUTHVAULT_KEY_FILE, or on the standard output of AUTHVAULT_KEY_CMD.
// Setting more than one of them is an error.
type Env struct {
	// Getenv reads the environment; nil means the process environment.
	// The process environment (Getenv nil or os.Getenv itself) is read
	// with os.LookupEnv, so that a variable set to the empty string (a
	// CI secret that expanded to nothing) is an error naming it rather
	// than a reason to look elsewhere; another Getenv cannot tell the
	// two apart.
	Getenv func(string) string

	// Prompt asks for the passphrase of a protected AUTHVAULT_KEY_FILE when
	// AUTHVAULT_PASSPHRASE is not set; see File.Prompt.
	Prompt func(prompt string) ([]byte, error)

	// CommandTimeout bounds AUTHVAULT_KEY_CMD, on top of the context.
	// Zero means DefaultCommandTimeout.
	CommandTimeout time.Duration
}

// Name returns "env".
func (e *Env) Name() string { return "env" }

// Identities returns the vault key from the environment. When none of the
// variables is set the error is a *NotFoundError; the error of a command
// that fails names the program and what it wrote to standard error, unless
// that might hold a key.
func (e *Env) Identities(ctx context.Context) ([]age.Identity, error) {
	getenv := e.Getenv
	processEnv := getenv == nil || reflect.ValueOf(getenv).Pointer() == reflect.ValueOf(os.Getenv).Pointer()
	if getenv == nil {
		getenv = os.Getenv
	}
	var set []string
	for _, name := range []string{EnvKey, EnvKeyFile, EnvKeyCommand} {
		if getenv(name) != "" {
			set = append(set, name)
		} else if _, ok := os.LookupEnv(name); ok && processEnv {
			return nil, fmt.Errorf("%s is set but empty: give it a value or unset it", name)
		}
	}
	switch len(set) {
	case 0:
		return nil, &NotFoundError{Source: e.Name(), Reason: EnvKey + " not set"}
	case 1:
	default:
		return nil, fmt.Errorf("%s are set: set only one", strings.Join(set, " and "))
	}

	switch set[0] {
	case EnvKey:
		data := []byte(getenv(EnvKey))
		defer clear(data)
		ids, err := ParseIdentities(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return ids, nil
	case EnvKeyFile:
		path := getenv(EnvKeyFile)
		f := &File{Path: path, Getenv: getenv, Prompt: e.Prompt}
		label := EnvKeyFile + " " + path
		ids, err := f.read(ctx, label)
		if err != nil {
			if _, ok := err.(*NotFoundError); ok {
				// Named explicitly, so a missing file is a mistake to
				// report, not a reason to look elsewhere.
				return nil, fmt.Errorf("%s: %w", label, fs.ErrNotExist)
			}
			return nil, err
		}
		return ids, nil
	default:
		timeout := e.CommandTimeout
		if timeout <= 0 {
			timeout = DefaultCommandTimeout
		}
		return runKeyCommand(ctx, getenv(EnvKeyCommand), timeout)
	}
}
