package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

var initCommand = &command{
	name:     "init",
	synopsis: "init [--key-store keyring|file|env] [--key-file PATH] [--passphrase] [--x25519]",
	summary:  "create a vault and a new key for it",
	help: `Creates an empty vault in the vault directory and a new vault key (an age
identity) that opens it, and keeps the key:

  --key-store keyring   in the OS keyring (macOS Keychain, Windows Credential
                        Manager, Secret Service on Linux), service "authvault"
                        (or $AUTHVAULT_KEYRING_SERVICE), account: the vault id
  --key-store file      in the key file under the user config directory
                        (~/.config/authvault/key.txt on Linux), mode 0600
  --key-store env       nowhere: the key is printed once on standard output as
                        AUTHVAULT_KEY=<identity>, for a CI secret store or a
                        service manager; set AUTHVAULT_KEY from it where
                        vaultkey and authvault run
  --key-file PATH       in a key file of its own at PATH (mode 0600), for a
                        second vault or a key kept elsewhere; set
                        AUTHVAULT_KEY_FILE=PATH where the vault is used
  --passphrase          encrypt the key file with a passphrase (age scrypt):
                        from AUTHVAULT_PASSPHRASE, else asked twice on the
                        terminal without echo; every use of the vault then
                        needs it the same way
  --x25519              a classic X25519 key instead of a post-quantum one

Without --key-store the keyring is used when one answers (probed for a few
seconds), else the key file.

A key in the environment is used as it is: with AUTHVAULT_KEY or
AUTHVAULT_KEY_CMD set, init creates the vault for that key and makes no new
one (every command would open the vault with it anyway); with
AUTHVAULT_KEY_FILE set, for the key in that file, or, when the file does not
exist yet, for a new key written there. A --key-store, --key-file,
--passphrase or --x25519 that the variable would override is refused, and
the error says which variable to unset.

The key is hybrid post-quantum (ML-KEM-768 + X25519, AGE-SECRET-KEY-PQ-1…)
unless --x25519 asks for a classic X25519 key, which age releases before
v1.3 can read, and which can share the vault with classic key slots such as
a YubiKey's (see "vaultkey help recipients").

init never overwrites: it refuses a directory that already holds a vault,
or is not empty, and a key file that already exists, since replacing a key
makes everything it protects unreadable.

Examples:
  vaultkey init
  vaultkey init --key-store env > ci-key.env
  vaultkey --dir /srv/app/vault init --key-file /srv/app/key.txt --passphrase
  vaultkey --dir /srv/app/vault init --key-store file --x25519`,
	setup: func(fs *flag.FlagSet) runFunc {
		store := fs.String("key-store", "", "")
		keyFile := fs.String("key-file", "", "")
		passphrase := fs.Bool("passphrase", false, "")
		x25519 := fs.Bool("x25519", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			st, err := parseKeyStore(*store)
			if err != nil {
				return err
			}
			o := initOptions{store: st, keyFile: *keyFile, passphrase: *passphrase, kind: keysource.PostQuantum, x25519: *x25519}
			if *x25519 {
				o.kind = keysource.X25519
			}
			return runInit(e, o)
		}
	},
}

// initOptions are init's flags.
type initOptions struct {
	store      keyStorage
	keyFile    string
	passphrase bool
	kind       keysource.Kind
	x25519     bool
}

// flags names the flags given that choose where or how a new key is kept.
func (o initOptions) flags() []string {
	var f []string
	if o.store != "" {
		f = append(f, "--key-store "+string(o.store))
	}
	if o.keyFile != "" {
		f = append(f, "--key-file")
	}
	if o.passphrase {
		f = append(f, "--passphrase")
	}
	if o.x25519 {
		f = append(f, "--x25519")
	}
	return f
}

// keyPlan is what init does with the key: use one the environment
// provides, or make one and keep it.
type keyPlan struct {
	existing []age.Identity // the key to use; nil: make a new one
	from     string         // where existing came from, for people
	store    keyStorage     // where a new key goes
	path     string         // the key file, for storeFile
	note     string         // why the store was chosen, if it was
}

// planKey decides, before anything is created, which key the new vault
// gets and where a new key goes. A key in the environment wins, since
// every command would use it: init uses it, or refuses flags it would
// override.
func planKey(e *env, o initOptions) (*keyPlan, error) {
	var set []string
	for _, name := range []string{keysource.EnvKey, keysource.EnvKeyFile, keysource.EnvKeyCommand} {
		if e.getenv(name) != "" {
			set = append(set, name)
		}
	}
	if len(set) > 1 {
		return nil, fmt.Errorf("%s are set: set only one (or none, to make a new key)", strings.Join(set, " and "))
	}
	if o.passphrase && (o.store == storeKeyring || o.store == storeEnv) {
		return nil, cli.Usagef("--passphrase protects a key file: leave out --key-store %s", o.store)
	}
	if o.keyFile != "" && o.store != "" && o.store != storeFile {
		return nil, cli.Usagef("--key-file keeps the key in a file: leave out --key-store %s", o.store)
	}
	envSrc := &keysource.Env{Getenv: e.getenv}
	useEnv := func(variable string) (*keyPlan, error) {
		ids, err := envSrc.Identities(e.ctx)
		if err != nil {
			return nil, fmt.Errorf("%w (unset %s to make a new key instead)", err, variable)
		}
		return &keyPlan{existing: ids, from: e.keys.Describe(envSrc)}, nil
	}
	if len(set) == 1 && set[0] != keysource.EnvKeyFile {
		v := set[0]
		if f := o.flags(); len(f) > 0 {
			return nil, fmt.Errorf("%s is set, so every command would open the new vault with that key, never with a new one made for %s: "+
				"unset %s to make a new key, or leave out %s to create the vault for the key %s gives", v, strings.Join(f, " "), v, strings.Join(f, " "), v)
		}
		return useEnv(v)
	}
	if len(set) == 1 { // AUTHVAULT_KEY_FILE
		path := e.getenv(keysource.EnvKeyFile)
		if o.keyFile != "" && filepath.Clean(o.keyFile) != filepath.Clean(path) {
			return nil, fmt.Errorf("%s names %s, so every command would open the new vault with the key there, not with one in %s: unset %s, or give --key-file %s",
				keysource.EnvKeyFile, path, o.keyFile, keysource.EnvKeyFile, path)
		}
		if o.store == storeKeyring || o.store == storeEnv {
			return nil, fmt.Errorf("%s is set, so every command would open the new vault with the key file %s, not with a key in the %s: unset %s to keep the new key there",
				keysource.EnvKeyFile, path, o.store, keysource.EnvKeyFile)
		}
		has, err := (&keysource.File{Path: path, Getenv: e.getenv}).Has(e.ctx)
		if err != nil {
			return nil, err
		}
		if has {
			if o.passphrase || o.x25519 {
				return nil, fmt.Errorf("%s names %s, which already holds a key: the new vault is created for that key as it is; leave out %s (they are for a new key), or unset %s",
					keysource.EnvKeyFile, path, strings.Join(o.flags(), " "), keysource.EnvKeyFile)
			}
			return useEnv(keysource.EnvKeyFile)
		}
		return &keyPlan{store: storeFile, path: path}, nil
	}
	if o.keyFile != "" || o.passphrase {
		path := o.keyFile
		if path == "" {
			p, err := e.keys.FilePath()
			if err != nil {
				return nil, err
			}
			path = p
		}
		return &keyPlan{store: storeFile, path: path}, nil
	}
	store, note, err := e.keys.ChooseStore(e.ctx, o.store)
	if err != nil {
		return nil, err
	}
	plan := &keyPlan{store: store, note: note}
	if store == storeFile {
		if plan.path, err = e.keys.FilePath(); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// checkKeyFileFree fails when the key file of plan exists: a key is never
// replaced, and the default key file most likely opens another vault.
func checkKeyFileFree(e *env, plan *keyPlan) error {
	has, err := (&keysource.File{Path: plan.path, Getenv: e.getenv}).Has(e.ctx)
	if err != nil || !has {
		return err
	}
	if def, _ := e.keys.FilePath(); plan.path == def {
		return fmt.Errorf("key file %s already exists (%w): it most likely opens another vault, and replacing it would lock that vault out; "+
			"give this vault a key file of its own with --key-file PATH (then set %s=PATH where it is used), or choose --key-store keyring or env",
			plan.path, keysource.ErrKeyExists, keysource.EnvKeyFile)
	}
	return fmt.Errorf("key file %s already exists (%w): replacing it would make everything it protects unreadable; choose another --key-file PATH",
		plan.path, keysource.ErrKeyExists)
}

func runInit(e *env, o initOptions) error {
	dir, err := e.vaultDir()
	if err != nil {
		return err
	}
	state, id, err := inspectDir(dir)
	if err != nil {
		return err
	}
	switch state {
	case dirVault:
		return fmt.Errorf("%s already holds a vault (id %s): refusing to overwrite it (choose another directory with --dir)", dir, id)
	case dirOther:
		return fmt.Errorf("%s is not empty and holds no vault: choose a new or empty directory with --dir", dir)
	}
	plan, err := planKey(e, o)
	if err != nil {
		return err
	}
	if plan.note != "" {
		e.notef("%s", plan.note)
	}
	var passphrase string
	if plan.existing == nil && plan.store == storeFile {
		// Before creating anything: a key file is never replaced.
		if err := checkKeyFileFree(e, plan); err != nil {
			return err
		}
		if o.passphrase {
			if passphrase, err = newPassphrase(e.getenv, e.stdin, e.stderr, "Passphrase for the new key file: "); err != nil {
				return err
			}
		}
	}

	var recipients []string
	var encoded string
	kind := o.kind
	if plan.existing != nil {
		if recipients, err = nativeRecipients(plan.existing); err != nil {
			return fmt.Errorf("the key from %s: %w: create the vault with a key vaultkey can read the public key of", plan.from, err)
		}
		kind = kindOf(plan.existing)
	} else {
		var recipient string
		if _, encoded, recipient, err = keysource.GenerateIdentity(kind); err != nil {
			return err
		}
		recipients = []string{recipient}
	}
	rs := make([]age.Recipient, len(recipients))
	for i, s := range recipients {
		if rs[i], err = vault.ParseRecipient(s); err != nil {
			return err
		}
	}
	v, err := vault.Create(e.ctx, dir, rs)
	if err != nil {
		if !errors.Is(err, vault.ErrExists) { // never another process's new vault
			removeNewVault(dir, state == dirMissing) // what Create made before failing
		}
		if vault.Mixed(recipients) {
			err = explainRecipients(err)
		}
		return err
	}
	id = v.ID()
	v.Close()

	where := plan.from
	if plan.existing == nil {
		where, err = keepInitKey(e, plan, id, encoded, passphrase)
		if err != nil {
			if rerr := removeNewVault(dir, state == dirMissing); rerr != nil {
				return fmt.Errorf("%w; the new vault could not be removed either (%v): delete %s by hand", err, rerr, dir)
			}
			return fmt.Errorf("%w (nothing was created)", err)
		}
	}
	out := e.stdout
	if plan.existing == nil && plan.store == storeEnv {
		out = e.stderr // standard output carries the key alone
	}
	fps := make([]string, len(recipients))
	for i, r := range recipients {
		fps[i] = vault.Fingerprint(r)
	}
	fmt.Fprintf(out, "created vault %s in %s\n", id, dir)
	fmt.Fprintf(out, "key: %s, public key %s\n", kind, strings.Join(fps, ", "))
	switch {
	case plan.existing != nil:
		fmt.Fprintf(out, "the vault opens with the key from %s: no new key was made and nothing was stored\n", where)
	case plan.store == storeEnv:
		fmt.Fprintf(out, "vaultkey: the AUTHVAULT_KEY line on standard output is the vault key and is shown only this once:\n"+
			"vaultkey: put it in your CI secret store (or service manager) now, and set AUTHVAULT_KEY from it where vaultkey and authvault run\n")
	default:
		fmt.Fprintf(out, "key stored in %s\n", where)
		def, _ := e.keys.FilePath()
		if plan.store == storeFile && plan.path != def && e.getenv(keysource.EnvKeyFile) == "" {
			fmt.Fprintf(out, "set %s=%s where vaultkey and authvault use this vault: the key chain looks for the default key file only\n", keysource.EnvKeyFile, plan.path)
		}
		if passphrase != "" {
			fmt.Fprintf(out, "the key file is passphrase-protected: set %s, or run in a terminal to be asked, wherever the vault is opened\n", keysource.EnvPassphrase)
		}
	}
	return nil
}

// keepInitKey keeps encoded, the key of the new vault vaultID, where plan
// says and returns where: for the environment, it prints AUTHVAULT_KEY=… on
// standard output (and says "environment").
func keepInitKey(e *env, plan *keyPlan, vaultID, encoded, passphrase string) (string, error) {
	switch plan.store {
	case storeEnv:
		if err := printEnvKey(e.stdout, encoded); err != nil {
			return "", fmt.Errorf("printing the key: %w", err)
		}
		return "environment", nil
	case storeFile:
		f := (&keysource.File{Path: plan.path, Getenv: e.getenv})
		var err error
		if passphrase != "" {
			err = f.StoreEncrypted(e.ctx, encoded, passphrase)
		} else {
			err = f.Store(e.ctx, encoded)
		}
		if err != nil {
			return "", err
		}
		if passphrase != "" {
			return f.Name() + " (passphrase-protected)", nil
		}
		return f.Name(), nil
	}
	if err := e.keys.CheckFree(e.ctx, plan.store, vaultID); err != nil {
		return "", err
	}
	return e.keys.StoreKey(e.ctx, plan.store, vaultID, encoded)
}

// keepNewKey keeps encoded, the key of the new vault vaultID, in store and
// returns where: for the environment, it prints AUTHVAULT_KEY=… on
// standard output (and says "environment").
func keepNewKey(e *env, store keyStorage, vaultID, encoded string) (string, error) {
	if store == storeEnv {
		if err := printEnvKey(e.stdout, encoded); err != nil {
			return "", fmt.Errorf("printing the key: %w", err)
		}
		return "environment", nil
	}
	if err := e.keys.CheckFree(e.ctx, store, vaultID); err != nil {
		return "", err
	}
	return e.keys.StoreKey(e.ctx, store, vaultID, encoded)
}

// printEnvKey writes the one line AUTHVAULT_KEY=<identity>. A key of more
// than one identity cannot be one line: those are printed as the value of
// a single-quoted shell assignment.
func printEnvKey(w io.Writer, encoded string) error {
	var err error
	if strings.Contains(encoded, "\n") {
		_, err = fmt.Fprintf(w, "%s='%s'\n", keysource.EnvKey, encoded)
	} else {
		_, err = fmt.Fprintf(w, "%s=%s\n", keysource.EnvKey, encoded)
	}
	return err
}
