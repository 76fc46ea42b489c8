package keysource

import (
	"context"
	"errors"

	"filippo.io/age"
)

// A Source finds the vault key in one place: the environment, the OS
// keyring, a file. Implementations outside this package are welcome.
type Source interface {
	// Name identifies the source in messages, e.g. "env", "keyring" or
	// "file /home/u/.config/authvault/key.txt".
	Name() string

	// Identities returns the vault key. It returns a *NotFoundError when the
	// source simply holds no key, and an *UnavailableError when the place it
	// looks cannot be reached (no Secret Service, a keyring that does not
	// answer). Any other error means the source has a key that cannot be
	// used: a malformed identity, a wrong passphrase, a failing command.
	//
	// Errors never contain key material.
	Identities(ctx context.Context) ([]age.Identity, error)
}

// A Store is a Source that can also keep a key, for vaultkey init and key
// rotation.
type Store interface {
	Source

	// Has reports whether the store already holds a key.
	Has(ctx context.Context) (bool, error)

	// Store saves identity, the text encoding of one or more age identities
	// (an identity file's contents). It checks that identity parses, and
	// refuses with an error wrapping ErrKeyExists when the store already
	// holds a key: a vault key is never overwritten, only deleted.
	Store(ctx context.Context, identity string) error

	// Delete removes the key. It returns a *NotFoundError if there was none.
	Delete(ctx context.Context) error
}

// ErrKeyExists is wrapped by the error of [Store.Store] when the store already
// holds a key.
var ErrKeyExists = errors.New("a vault key is already stored")

// NotFoundError reports that a source holds no key. That is not a failure:
// [Chain] moves on to the next source.
type NotFoundError struct {
	// Source is the Name of the source.
	Source string
	// Reason is the whole message, e.g. "AUTHVAULT_KEY not set" or
	// "file /x/key.txt: not found".
	Reason string
}

func (e *NotFoundError) Error() string { return e.Reason }

// UnavailableError reports that a source could not look for a key at all:
// no Secret Service on the session bus, a keyring that did not answer in
// time. [Chain] moves on to the next source.
type UnavailableError struct {
	// Source is the Name of the source.
	Source string
	// Reason is the whole message, e.g.
	// "keyring: no Secret Service on the session bus".
	Reason string
	// Err is the underlying error, if any.
	Err error
}

func (e *UnavailableError) Error() string { return e.Reason }

func (e *UnavailableError) Unwrap() error { return e.Err }

// absent reports whether err only says that a source has no key to offer, as
// opposed to a key that is there but unusable.
func absent(err error) bool {
	var nf *NotFoundError
	var ua *UnavailableError
	return errors.As(err, &nf) || errors.As(err, &ua)
}
