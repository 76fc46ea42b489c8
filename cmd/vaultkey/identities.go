package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"filippo.io/age"

	"github.com/authvault/authvault/keysource"
)

// passphraseIdentity is an age identity for passphrase-encrypted files
// that asks for the passphrase only when the file turns out to be one, and
// at most once.
type passphraseIdentity struct {
	// Get returns the passphrase.
	Get func() (string, error)

	once sync.Once
	pass string
	err  error
}

// Unwrap implements age.Identity.
func (p *passphraseIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if len(stanzas) != 1 || stanzas[0].Type != "scrypt" {
		return nil, age.ErrIncorrectIdentity
	}
	p.once.Do(func() { p.pass, p.err = p.Get() })
	if p.err != nil {
		return nil, p.err
	}
	id, err := age.NewScryptIdentity(p.pass)
	if err != nil {
		return nil, err
	}
	return id.Unwrap(stanzas)
}

// lazyIdentities is an age identity that finds its identities only when a
// file needs them, for instance by resolving a key chain that may ask a
// keyring. When Get fails it matches nothing.
type lazyIdentities struct {
	// Get returns the identities.
	Get func() ([]age.Identity, error)

	once sync.Once
	ids  []age.Identity
	err  error
}

// Unwrap implements age.Identity.
func (l *lazyIdentities) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if len(stanzas) == 1 && stanzas[0].Type == "scrypt" {
		return nil, age.ErrIncorrectIdentity
	}
	l.once.Do(func() { l.ids, l.err = l.Get() })
	if l.err != nil {
		return nil, fmt.Errorf("%w (the vault key: %v)", age.ErrIncorrectIdentity, l.err)
	}
	for _, id := range l.ids {
		k, err := id.Unwrap(stanzas)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		return k, err
	}
	return nil, age.ErrIncorrectIdentity
}

// encodeIdentities returns the identity-file text of ids, one per line,
// as AUTHVAULT_KEY or a key file holds it.
func encodeIdentities(ids []age.Identity) (string, error) {
	lines := make([]string, 0, len(ids))
	for _, id := range ids {
		s, ok := id.(fmt.Stringer)
		if !ok {
			return "", fmt.Errorf("an identity of type %T has no text form", id)
		}
		lines = append(lines, s.String())
	}
	if len(lines) == 0 {
		return "", errors.New("no identities")
	}
	return strings.Join(lines, "\n"), nil
}

// kindOf returns the kind of a generated identity like ids: X25519 when
// the first is X25519, post-quantum otherwise.
func kindOf(ids []age.Identity) keysource.Kind {
	if len(ids) > 0 {
		if _, ok := ids[0].(*age.X25519Identity); ok {
			return keysource.X25519
		}
	}
	return keysource.PostQuantum
}
