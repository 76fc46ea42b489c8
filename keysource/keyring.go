package keysource

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"filippo.io/age"
	"github.com/zalando/go-keyring"
)

const (
	// DefaultKeyringService is the keyring service name used when
	// Keyring.Service is empty.
	DefaultKeyringService = "authvault"
	// DefaultKeyringTimeout bounds each keyring call when Keyring.Timeout is
	// zero.
	DefaultKeyringTimeout = 5 * time.Second
)

// Keyring keeps the vault key in the operating system's keyring: the macOS
// Keychain, the Windows Credential Manager, or a Secret Service (GNOME
// Keyring, KWallet) on the D-Bus session bus elsewhere. There is one entry
// per vault, under service Service and account Account.
//
// The keyring library takes no context, so each call runs in its own
// goroutine and is abandoned when the context ends or Timeout passes (a
// locked keyring may wait forever for a user to unlock it). An abandoned
// call may still complete later.
type Keyring struct {
	// Service is the keyring service name; "" means DefaultKeyringService.
	Service string
	// Account names the vault's entry, e.g. the vault id. Required.
	Account string
	// Timeout bounds each keyring call; 0 means DefaultKeyringTimeout.
	Timeout time.Duration
	// Pending makes Identities also read the rotation entry
	// (Account+PendingSuffix) when the main entry is missing: during a key
	// rotation that entry holds the key that opens the vault.
	Pending bool

	// backend is the keyring; nil means the system's, through go-keyring.
	backend keyringBackend
}

var _ Store = (*Keyring)(nil)

// keyringBackend is the part of go-keyring that Keyring uses.
type keyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// systemKeyring is go-keyring, with a fast answer where it would otherwise
// start a D-Bus daemon or wait for one that cannot exist.
type systemKeyring struct{}

func (systemKeyring) Get(service, user string) (string, error) {
	if err := checkSessionBus(); err != nil {
		return "", err
	}
	return keyring.Get(service, user)
}

func (systemKeyring) Set(service, user, secret string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.Set(service, user, secret)
}

func (systemKeyring) Delete(service, user string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.Delete(service, user)
}

// Name returns "keyring".
func (k *Keyring) Name() string { return "keyring" }

func (k *Keyring) service() string {
	if k.Service == "" {
		return DefaultKeyringService
	}
	return k.Service
}

// Identities reads the vault's keyring entry. No entry gives a
// *NotFoundError; no reachable keyring an *UnavailableError.
func (k *Keyring) Identities(ctx context.Context) ([]age.Identity, error) {
	secret, err := k.get(ctx)
	var nf *NotFoundError
	if k.Pending && errors.As(err, &nf) {
		pk := *k
		pk.Account, pk.Pending = k.Account+PendingSuffix, false
		if ids, perr := pk.Identities(ctx); perr == nil || !errors.As(perr, &nf) {
			return ids, perr
		}
	}
	if err != nil {
		return nil, err
	}
	data := []byte(secret)
	defer clear(data)
	ids, err := ParseIdentities(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.label(), err)
	}
	return ids, nil
}

// Has reports whether the vault's keyring entry exists.
func (k *Keyring) Has(ctx context.Context) (bool, error) {
	_, err := k.get(ctx)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return false, nil
	}
	return err == nil, err
}

// Store creates the vault's keyring entry. It refuses, with an error wrapping
// ErrKeyExists, when the entry exists. The check and the write are two
// keyring calls (keyrings have no create-only write): two processes storing
// at the same instant could both succeed, the last one winning.
func (k *Keyring) Store(ctx context.Context, identity string) error {
	raw := []byte(identity)
	_, err := parseIdentities(raw, false)
	clear(raw)
	if err != nil {
		return fmt.Errorf("%s: not storing an invalid key: %w", k.label(), err)
	}
	has, err := k.Has(ctx)
	if err != nil {
		return err
	}
	if has {
		return fmt.Errorf("%s: %w", k.label(), ErrKeyExists)
	}
	_, err = k.call(ctx, func(b keyringBackend) (string, error) {
		return "", b.Set(k.service(), k.Account, identity)
	})
	if err != nil && mayHoldKey(err.Error()) {
		return errors.New(k.label() + ": storing failed (details not shown: they may contain the key)")
	}
	return err
}

// Delete removes the vault's keyring entry. No entry gives a *NotFoundError.
func (k *Keyring) Delete(ctx context.Context) error {
	_, err := k.call(ctx, func(b keyringBackend) (string, error) {
		return "", b.Delete(k.service(), k.Account)
	})
	return err
}

func (k *Keyring) get(ctx context.Context) (string, error) {
	return k.call(ctx, func(b keyringBackend) (string, error) {
		return b.Get(k.service(), k.Account)
	})
}

// label names the keyring entry in messages: one line per entry, so that
// two entries (a vault's and its rotation's) are told apart.
func (k *Keyring) label() string {
	return fmt.Sprintf("keyring (service %q, account %q)", k.service(), k.Account)
}

// call runs op against the backend, bounded by ctx and the timeout, and
// turns its error into a NotFoundError, an UnavailableError or a plain
// error that names the keyring.
func (k *Keyring) call(ctx context.Context, op func(keyringBackend) (string, error)) (string, error) {
	if k.Account == "" {
		return "", errors.New("keyring: no account name (the vault's entry) configured")
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", k.label(), err)
	}
	b := k.backend
	if b == nil {
		b = systemKeyring{}
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}

	type result struct {
		s   string
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned call must not block
	go func() {
		s, err := op(b)
		done <- result{s, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	select {
	case r := <-done:
		if r.err != nil {
			return "", k.classify(r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %w", k.label(), ctx.Err())
	case <-timer.C:
		return "", &UnavailableError{
			Source: k.Name(),
			Reason: fmt.Sprintf("%s: no answer within %v (is the keyring locked?)", k.label(), timeout),
			Err:    context.DeadlineExceeded,
		}
	}
}

func (k *Keyring) classify(err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return &NotFoundError{Source: k.Name(), Reason: k.label() + ": no entry"}
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return &UnavailableError{Source: k.Name(), Reason: k.label() + ": not supported on " + runtime.GOOS, Err: err}
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%s: key too large for this keyring: %w", k.label(), err)
	}
	if reason := noSecretService(err); reason != "" {
		return &UnavailableError{Source: k.Name(), Reason: k.label() + ": " + reason, Err: err}
	}
	return &UnavailableError{Source: k.Name(), Reason: k.label() + ": " + safeMessage(err), Err: err}
}
