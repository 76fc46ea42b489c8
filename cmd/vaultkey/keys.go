package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/plugin"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

// probeTimeout bounds the keyring probe of vaultKeys.ChooseStore.
const probeTimeout = 3 * time.Second

// keyStorage names where a new vault key is kept.
type keyStorage string

// The places a vault key can be kept.
const (
	// storeKeyring is the OS keyring: macOS Keychain, Windows Credential
	// Manager, a Secret Service on Linux. One entry per vault, named by the
	// vault id.
	storeKeyring keyStorage = "keyring"
	// storeFile is the key file under the user config directory
	// (keysource.DefaultFilePath).
	storeFile keyStorage = "file"
	// storeEnv is the environment: the key is printed once, as
	// AUTHVAULT_KEY=…, for a CI secret store or a service manager.
	storeEnv keyStorage = "env"
)

// parseKeyStore parses "keyring", "file" or "env"; "" means choose
// (see vaultKeys.ChooseStore).
func parseKeyStore(s string) (keyStorage, error) {
	switch keyStorage(s) {
	case "", storeKeyring, storeFile, storeEnv:
		return keyStorage(s), nil
	}
	return "", cli.Usagef("--key-store %q: want keyring, file or env", s)
}

// vaultKeys is where vaultkey looks for vault keys and keeps new ones: the
// chain of keysource.Default (the environment, the OS keyring under the
// service AUTHVAULT_KEYRING_SERVICE names, the key file).
type vaultKeys struct {
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// ProbeTimeout bounds the keyring probe of ChooseStore; 0 means three
	// seconds.
	ProbeTimeout time.Duration
}

func (k *vaultKeys) getenv(name string) string {
	if k.Getenv == nil {
		return os.Getenv(name)
	}
	return k.Getenv(name)
}

// Keyring returns the keyring entry of the vault vaultID, under the
// service AUTHVAULT_KEYRING_SERVICE names (default
// keysource.DefaultKeyringService).
func (k *vaultKeys) Keyring(vaultID string) *keysource.Keyring {
	return &keysource.Keyring{Service: k.getenv(keysource.EnvKeyringService), Account: vaultID}
}

// FilePath returns the path of the key file.
func (k *vaultKeys) FilePath() (string, error) {
	p, err := keysource.DefaultFilePath()
	if err != nil {
		return "", fmt.Errorf("no user config directory for the key file: %w", err)
	}
	return p, nil
}

// unlocked is a vault opened with the key a source gave.
type unlocked struct {
	*vault.Vault
	// Identities are the key that opened it.
	Identities []age.Identity
	// Source is where the key came from.
	Source keysource.Source
}

// OpenVault opens the vault in dir, a directory or a store URL, with the
// key keysource.Default finds for it. Errors say what to do: create a
// vault, or which key failed. A *keysource.NoKeyError is returned as is.
// It differs from authvault.OpenVault in what it returns: the key and
// where it came from, which rotate, export and status need.
func (k *vaultKeys) OpenVault(ctx context.Context, dir string, opts ...vault.Option) (*unlocked, error) {
	loc, err := locate(ctx, dir)
	if err != nil {
		if errors.Is(err, vault.ErrNoVault) {
			return nil, fmt.Errorf("%w (create one with: vaultkey init, or name another with --dir)", err)
		}
		return nil, err
	}
	id := loc.id
	ids, from, err := keysource.Default(id, k.Getenv).Resolve(ctx)
	if err != nil {
		loc.close()
		return nil, err
	}
	from = k.pendingEntry(ctx, from)
	v, err := vault.Open(ctx, loc.name, ids, slices.Concat(opts, loc.opts)...)
	if err != nil {
		loc.close()
		if errors.Is(err, vault.ErrWrongKey) {
			return nil, fmt.Errorf("the key from %s does not open the vault in %s (id %s): %w", k.Describe(from), loc.name, id, err)
		}
		return nil, err
	}
	return &unlocked{Vault: v, Identities: ids, Source: from}, nil
}

// pendingEntry returns the rotation entry when the keyring source found
// the key there rather than in the vault's own entry, so that messages
// can say a rotation was interrupted; other sources as they are.
func (k *vaultKeys) pendingEntry(ctx context.Context, src keysource.Source) keysource.Source {
	kr, ok := src.(*keysource.Keyring)
	if !ok || !kr.Pending {
		return src
	}
	main := *kr
	main.Pending = false
	if has, err := main.Has(ctx); err != nil || has {
		return src
	}
	main.Account += keysource.PendingSuffix
	return &main
}

// Describe names a key source for people: which variable, which keyring
// entry, which file.
func (k *vaultKeys) Describe(src keysource.Source) string {
	switch s := src.(type) {
	case *keysource.Env:
		switch {
		case k.getenv(keysource.EnvKey) != "":
			return "environment (" + keysource.EnvKey + ")"
		case k.getenv(keysource.EnvKeyFile) != "":
			return "environment (" + keysource.EnvKeyFile + " " + k.getenv(keysource.EnvKeyFile) + ")"
		case k.getenv(keysource.EnvKeyCommand) != "":
			return "environment (" + keysource.EnvKeyCommand + ")"
		}
		return "environment"
	case *keysource.Keyring:
		service := s.Service
		if service == "" {
			service = keysource.DefaultKeyringService
		}
		d := fmt.Sprintf("keyring (service %q, account %q)", service, s.Account)
		if strings.HasSuffix(s.Account, keysource.PendingSuffix) {
			d += ", left by an interrupted key rotation"
		}
		return d
	case nil:
		return "no source"
	}
	return src.Name()
}

// probeKeyring reports whether the OS keyring answers, within the probe
// timeout; the error says why not.
func (k *vaultKeys) probeKeyring(ctx context.Context) error {
	timeout := k.ProbeTimeout
	if timeout <= 0 {
		timeout = probeTimeout
	}
	probe := k.Keyring("probe")
	probe.Timeout = timeout
	_, err := probe.Has(ctx)
	var ua *keysource.UnavailableError
	if errors.As(err, &ua) {
		// The probe's entry is no vault's: say what it found of the keyring.
		_, reason, _ := strings.Cut(ua.Reason, "): ")
		return fmt.Errorf("keyring: %s", reason)
	}
	return err
}

// ChooseStore returns where a new key goes. requested is a --key-store
// value: "" means the keyring when one answers (probed with a short
// timeout), else the key file; note then says why the file was chosen.
// An explicit keyring that does not answer is an error.
func (k *vaultKeys) ChooseStore(ctx context.Context, requested keyStorage) (store keyStorage, note string, err error) {
	switch requested {
	case storeFile, storeEnv:
		return requested, "", nil
	case storeKeyring:
		if err := k.probeKeyring(ctx); err != nil {
			return "", "", fmt.Errorf("%v: choose --key-store file or --key-store env", err)
		}
		return storeKeyring, "", nil
	case "":
		if err := k.probeKeyring(ctx); err != nil {
			return storeFile, fmt.Sprintf("no usable OS keyring (%v): keeping the key in the key file", err), nil
		}
		return storeKeyring, "", nil
	}
	return "", "", cli.Usagef("--key-store %q: want keyring, file or env", requested)
}

// CheckFree fails when store already holds a key for the vault vaultID (for
// the key file: any key), since a key is never overwritten: every record
// it protects would become unreadable.
func (k *vaultKeys) CheckFree(ctx context.Context, store keyStorage, vaultID string) error {
	switch store {
	case storeKeyring:
		has, err := k.Keyring(vaultID).Has(ctx)
		if err != nil {
			return err
		}
		if has {
			return fmt.Errorf("%s already holds a key (%w); overwriting it would make every record it protects unreadable: delete it yourself first if it is really unused", k.Describe(k.Keyring(vaultID)), keysource.ErrKeyExists)
		}
	case storeFile:
		path, err := k.FilePath()
		if err != nil {
			return err
		}
		has, err := (&keysource.File{Path: path, Getenv: k.Getenv}).Has(ctx)
		if err != nil {
			return err
		}
		if has {
			return fmt.Errorf("key file %s already exists (%w); overwriting it would make every vault it opens unreadable: move it away first, or choose --key-store keyring or env", path, keysource.ErrKeyExists)
		}
	}
	return nil
}

// StoreKey keeps encoded, an identity file's text, in store for the vault
// vaultID and returns where it went. The environment cannot be written:
// the caller prints the key instead.
func (k *vaultKeys) StoreKey(ctx context.Context, store keyStorage, vaultID, encoded string) (string, error) {
	switch store {
	case storeKeyring:
		kr := k.Keyring(vaultID)
		if err := kr.Store(ctx, encoded); err != nil {
			return "", err
		}
		return k.Describe(kr), nil
	case storeFile:
		path, err := k.FilePath()
		if err != nil {
			return "", err
		}
		f := &keysource.File{Path: path, Getenv: k.Getenv}
		if err := f.Store(ctx, encoded); err != nil {
			return "", err
		}
		return f.Name(), nil
	}
	return "", fmt.Errorf("cannot store a key in %q", store)
}

// nativeRecipients returns the public keys of ids, which must all be
// X25519 or post-quantum identities: a plugin identity's recipient is
// known only to its plugin (and the age API's stand-in for it would carry
// the identity itself).
func nativeRecipients(ids []age.Identity) ([]string, error) {
	var out []string
	for _, id := range ids {
		switch id := id.(type) {
		case *age.HybridIdentity:
			out = append(out, id.Recipient().String())
		case *age.X25519Identity:
			out = append(out, id.Recipient().String())
		case *plugin.Identity:
			return nil, fmt.Errorf("the key is an age-plugin-%s identity, whose public key only the plugin knows", id.Name())
		default:
			return nil, fmt.Errorf("an identity of type %T has no known public key", id)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no identities")
	}
	return out, nil
}

// explainRecipients adds what to do to age's refusal to mix post-quantum
// and classic recipients; other errors are returned as they are.
func explainRecipients(err error) error {
	if err == nil || !strings.Contains(err.Error(), "can't mix post-quantum and classic recipients") {
		return err
	}
	return fmt.Errorf("%w: every recipient must be post-quantum (age1pq1…, from age-keygen -pq) or every one classic (age1…, or a plugin such as age1yubikey1…)", err)
}
