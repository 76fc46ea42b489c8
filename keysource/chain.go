package keysource

import (
	"context"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
)

// A Chain looks for the vault key in several sources, in order.
type Chain struct {
	// Sources are tried first to last.
	Sources []Source
}

// Default returns the standard chain for the vault named vaultName: the
// environment ([Env]), then the OS keyring entry for that vault ([Keyring],
// under the service AUTHVAULT_KEYRING_SERVICE names, if set) and its
// rotation entry ([PendingSuffix]), then the key file under the user config
// directory ([File]).
//
// getenv reads the environment (AUTHVAULT_KEY, AUTHVAULT_KEY_FILE,
// AUTHVAULT_KEY_CMD, AUTHVAULT_PASSPHRASE, AUTHVAULT_KEYRING_SERVICE);
// nil means [os.Getenv].
func Default(vaultName string, getenv func(string) string) *Chain {
	if getenv == nil {
		getenv = os.Getenv
	}
	service := getenv(EnvKeyringService)
	// An unknown config directory leaves Path empty; File then reports why.
	path, _ := DefaultFilePath()
	return &Chain{Sources: []Source{
		&Env{Getenv: getenv},
		&Keyring{Service: service, Account: vaultName, Pending: true},
		&File{Path: path, Getenv: getenv},
	}}
}

// EnvKeyringService overrides the keyring service vault keys are kept
// under (default DefaultKeyringService).
const EnvKeyringService = "AUTHVAULT_KEYRING_SERVICE"

// PendingSuffix names a vault's second keyring entry, which holds the next
// key while a key rotation is under way (vaultkey rotate writes it before
// the vault commits and removes it after), so the vault opens at every
// step of a rotation, even an interrupted one.
const PendingSuffix = ".next"

// Resolve returns the identities of the first source that has the vault key,
// and that source.
//
// Sources that have no key (*NotFoundError) or cannot be reached
// (*UnavailableError) are passed over. A source that has a key which cannot
// be used (a malformed identity, a wrong passphrase, a failing command) ends
// the search: a key someone configured must not be silently replaced by
// another one. Either way the error is a *NoKeyError naming every source
// consulted and why it gave no key.
func (c *Chain) Resolve(ctx context.Context) (ids []age.Identity, from Source, err error) {
	var attempts []attempt
	for _, s := range c.Sources {
		ids, err := s.Identities(ctx)
		if err == nil && len(ids) == 0 {
			err = fmt.Errorf("%s: no identities", s.Name())
		}
		if err == nil {
			return ids, s, nil
		}
		attempts = append(attempts, attempt{source: s, err: err})
		if !absent(err) || ctx.Err() != nil {
			break
		}
	}
	return nil, nil, &NoKeyError{attempts: attempts}
}

// An attempt is one source consulted by [Chain.Resolve] and why it gave no key.
type attempt struct {
	source Source
	err    error
}

// NoKeyError is returned by [Chain.Resolve] when no source produced a usable
// key. Its message names every source consulted and why, for example
//
//	no vault key: AUTHVAULT_KEY not set; keyring: no Secret Service on the session bus; file /x/key.txt: not found
//
// It unwraps to each attempt's error, so errors.Is(err, ErrIncorrectPassphrase)
// and errors.Is(err, ErrInsecureFile) work on it.
type NoKeyError struct {
	attempts []attempt
}

func (e *NoKeyError) Error() string {
	if len(e.attempts) == 0 {
		return "no vault key: no key sources configured"
	}
	var b strings.Builder
	b.WriteString("no vault key: ")
	for i, a := range e.attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		msg := a.err.Error()
		if mayHoldKey(msg) {
			// Sources are written not to do this; a third-party one might.
			msg = a.source.Name() + ": failed (error withheld: it may contain key material)"
		}
		b.WriteString(msg)
	}
	return b.String()
}

func (e *NoKeyError) Unwrap() []error {
	errs := make([]error, len(e.attempts))
	for i, a := range e.attempts {
		errs[i] = a.err
	}
	return errs
}

// Absent reports whether every attempt merely found no key (or could not
// look), as opposed to finding a key that could not be used.
func (e *NoKeyError) Absent() bool {
	for _, a := range e.attempts {
		if !absent(a.err) {
			return false
		}
	}
	return true
}
