package cli

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

	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

// EnvKeyringService overrides the OS keyring service name vault keys are
// kept under (default keysource.DefaultKeyringService, "authvault"). Tests
// set it to keep their entries apart from the user's.
const EnvKeyringService = "AUTHVAULT_KEYRING_SERVICE"

// PendingSuffix is appended to a vault's keyring account name for the
// entry that holds the next key while a rotation is under way. It holds
// the new and the old identity, so it opens the vault at every step of the
// rotation; the key chain of [Keys.Chain] looks there after the main entry.
const PendingSuffix = ".next"

// DefaultProbeTimeout bounds the keyring probe of [Keys.ChooseStore].
const DefaultProbeTimeout = 3 * time.Second

// KeyStore names where a new vault key is kept.
type KeyStore string

// The places a vault key can be kept.
const (
	// StoreKeyring is the OS keyring: macOS Keychain, Windows Credential
	// Manager, a Secret Service on Linux. One entry per vault, named by the
	// vault id.
	StoreKeyring KeyStore = "keyring"
	// StoreFile is the key file under the user config directory
	// (keysource.DefaultFilePath).
	StoreFile KeyStore = "file"
	// StoreEnv is the environment: the key is printed once, as
	// AUTHVAULT_KEY=…, for a CI secret store or a service manager.
	StoreEnv KeyStore = "env"
)

// ParseKeyStore parses "keyring", "file" or "env"; "" means choose
// (see [Keys.ChooseStore]).
func ParseKeyStore(s string) (KeyStore, error) {
	switch KeyStore(s) {
	case "", StoreKeyring, StoreFile, StoreEnv:
		return KeyStore(s), nil
	}
	return "", Usagef("--key-store %q: want keyring, file or env", s)
}

// Keys is where vaultkey looks for vault keys and keeps new ones: the
// environment, the OS keyring and the key file, as keysource.Default, with
// the keyring service taken from AUTHVAULT_KEYRING_SERVICE.
type Keys struct {
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Prompt asks for the passphrase of a passphrase-protected key file when
	// AUTHVAULT_PASSPHRASE is not set; nil means the terminal, when
	// standard input is one.
	Prompt func(prompt string) ([]byte, error)
	// ProbeTimeout bounds the keyring probe of ChooseStore; 0 means
	// DefaultProbeTimeout.
	ProbeTimeout time.Duration
}

func (k *Keys) getenv(name string) string {
	if k.Getenv == nil {
		return os.Getenv(name)
	}
	return k.Getenv(name)
}

// Service returns the keyring service name.
func (k *Keys) Service() string {
	if s := k.getenv(EnvKeyringService); s != "" {
		return s
	}
	return keysource.DefaultKeyringService
}

// Keyring returns the keyring entry of the vault vaultID.
func (k *Keys) Keyring(vaultID string) *keysource.Keyring {
	return &keysource.Keyring{Service: k.Service(), Account: vaultID}
}

// PendingKeyring returns the keyring entry that holds the next key of the
// vault vaultID during a rotation.
func (k *Keys) PendingKeyring(vaultID string) *keysource.Keyring {
	return &keysource.Keyring{Service: k.Service(), Account: vaultID + PendingSuffix}
}

// FilePath returns the path of the key file.
func (k *Keys) FilePath() (string, error) {
	p, err := keysource.DefaultFilePath()
	if err != nil {
		return "", fmt.Errorf("no user config directory for the key file: %w", err)
	}
	return p, nil
}

// File returns the key file source at path.
func (k *Keys) File(path string) *keysource.File {
	return &keysource.File{Path: path, Getenv: k.Getenv, Prompt: k.Prompt}
}

// Chain returns the sources tried, in order, for the key of the vault
// vaultID: the environment (AUTHVAULT_KEY, AUTHVAULT_KEY_FILE,
// AUTHVAULT_KEY_CMD), the vault's keyring entry, its pending entry (left
// only while a rotation runs or after one was interrupted), and the key
// file.
func (k *Keys) Chain(vaultID string) *keysource.Chain {
	path, _ := keysource.DefaultFilePath() // "" lets File say why
	return &keysource.Chain{Sources: []keysource.Source{
		&keysource.Env{Getenv: k.Getenv, Prompt: k.Prompt},
		k.Keyring(vaultID),
		k.PendingKeyring(vaultID),
		k.File(path),
	}}
}

// Unlocked is a vault opened with the key a source gave.
type Unlocked struct {
	*vault.Vault
	// Identities are the key that opened it.
	Identities []age.Identity
	// Source is where the key came from.
	Source keysource.Source
}

// OpenVault opens the vault in dir, a directory or a Redis URL (see
// [IsStoreURL]), with the key the chain finds. Errors say what to do:
// create a vault, or which key failed. A *keysource.NoKeyError is
// returned as is.
func (k *Keys) OpenVault(ctx context.Context, dir string, opts ...vault.Option) (*Unlocked, error) {
	loc, err := locate(ctx, dir)
	if err != nil {
		if errors.Is(err, vault.ErrNoVault) {
			return nil, fmt.Errorf("%w (create one with: vaultkey init, or name another with --dir)", err)
		}
		return nil, err
	}
	id := loc.id
	ids, from, err := k.Chain(id).Resolve(ctx)
	if err != nil {
		loc.close()
		return nil, err
	}
	v, err := vault.Open(ctx, loc.name, ids, slices.Concat(opts, loc.opts)...)
	if err != nil {
		loc.close()
		if errors.Is(err, vault.ErrWrongKey) {
			return nil, fmt.Errorf("the key from %s does not open the vault in %s (id %s): %w", k.Describe(from), loc.name, id, err)
		}
		return nil, err
	}
	return &Unlocked{Vault: v, Identities: ids, Source: from}, nil
}

// Describe names a key source for people: which variable, which keyring
// entry, which file.
func (k *Keys) Describe(src keysource.Source) string {
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
		d := fmt.Sprintf("keyring (service %q, account %q)", s.Service, s.Account)
		if strings.HasSuffix(s.Account, PendingSuffix) {
			d += ", left by an interrupted key rotation"
		}
		return d
	case nil:
		return "no source"
	}
	return src.Name()
}

// ProbeKeyring reports whether the OS keyring answers, within the probe
// timeout; the error says why not.
func (k *Keys) ProbeKeyring(ctx context.Context) error {
	timeout := k.ProbeTimeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	probe := &keysource.Keyring{Service: k.Service(), Account: "probe", Timeout: timeout}
	_, err := probe.Has(ctx)
	return err
}

// ChooseStore returns where a new key goes. requested is a --key-store
// value: "" means the keyring when one answers (probed with a short
// timeout), else the key file; note then says why the file was chosen.
// An explicit keyring that does not answer is an error.
func (k *Keys) ChooseStore(ctx context.Context, requested KeyStore) (store KeyStore, note string, err error) {
	switch requested {
	case StoreFile, StoreEnv:
		return requested, "", nil
	case StoreKeyring:
		if err := k.ProbeKeyring(ctx); err != nil {
			return "", "", fmt.Errorf("%v: choose --key-store file or --key-store env", err)
		}
		return StoreKeyring, "", nil
	case "":
		if err := k.ProbeKeyring(ctx); err != nil {
			return StoreFile, fmt.Sprintf("no usable OS keyring (%v): keeping the key in the key file", err), nil
		}
		return StoreKeyring, "", nil
	}
	return "", "", Usagef("--key-store %q: want keyring, file or env", requested)
}

// CheckFree fails when store already holds a key for the vault vaultID (for
// the key file: any key), since a key is never overwritten: every record
// it protects would become unreadable.
func (k *Keys) CheckFree(ctx context.Context, store KeyStore, vaultID string) error {
	switch store {
	case StoreKeyring:
		has, err := k.Keyring(vaultID).Has(ctx)
		if err != nil {
			return err
		}
		if has {
			return fmt.Errorf("%s already holds a key (%w); overwriting it would make every record it protects unreadable: delete it yourself first if it is really unused", k.Describe(k.Keyring(vaultID)), keysource.ErrKeyExists)
		}
	case StoreFile:
		path, err := k.FilePath()
		if err != nil {
			return err
		}
		has, err := k.File(path).Has(ctx)
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
func (k *Keys) StoreKey(ctx context.Context, store KeyStore, vaultID, encoded string) (string, error) {
	switch store {
	case StoreKeyring:
		kr := k.Keyring(vaultID)
		if err := kr.Store(ctx, encoded); err != nil {
			return "", err
		}
		return k.Describe(kr), nil
	case StoreFile:
		path, err := k.FilePath()
		if err != nil {
			return "", err
		}
		f := k.File(path)
		if err := f.Store(ctx, encoded); err != nil {
			return "", err
		}
		return f.Name(), nil
	}
	return "", fmt.Errorf("cannot store a key in %q", store)
}

// EncodeIdentities returns the identity-file text of ids, one per line,
// as AUTHVAULT_KEY or a key file holds it.
func EncodeIdentities(ids []age.Identity) (string, error) {
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

// NativeRecipients returns the public keys of ids, which must all be
// X25519 or post-quantum identities: a plugin identity's recipient is
// known only to its plugin (and the age API's stand-in for it would carry
// the identity itself).
func NativeRecipients(ids []age.Identity) ([]string, error) {
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

// KindOf returns the kind of a generated identity like ids: X25519 when
// the first is X25519, post-quantum otherwise.
func KindOf(ids []age.Identity) keysource.Kind {
	if len(ids) > 0 {
		if _, ok := ids[0].(*age.X25519Identity); ok {
			return keysource.X25519
		}
	}
	return keysource.PostQuantum
}

// ExplainRecipients adds what to do to age's refusal to mix post-quantum
// and classic recipients; other errors are returned as they are.
func ExplainRecipients(err error) error {
	if err == nil || !strings.Contains(err.Error(), "can't mix post-quantum and classic recipients") {
		return err
	}
	return fmt.Errorf("%w: every recipient must be post-quantum (age1pq1…, from age-keygen -pq) or every one classic (age1…, or a plugin such as age1yubikey1…)", err)
}
