package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

var initCommand = &command{
	name:     "init",
	synopsis: "init [--key-store keyring|file|env] [--x25519]",
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

Without --key-store the keyring is used when one answers (probed for a few
seconds), else the key file.

The key is hybrid post-quantum (ML-KEM-768 + X25519, AGE-SECRET-KEY-PQ-1…)
unless --x25519 asks for a classic X25519 key, which age releases before
v1.3 can read, and which can share the vault with classic key slots such as
a YubiKey's (age does not mix post-quantum and classic recipients).

init never overwrites: it refuses a directory that already holds a vault,
or is not empty, and a key file that already exists, since replacing a key
makes everything it protects unreadable.

Examples:
  vaultkey init
  vaultkey init --key-store env > ci-key.env
  vaultkey --dir /srv/app/vault init --key-store file --x25519`,
	setup: func(fs *flag.FlagSet) runFunc {
		store := fs.String("key-store", "", "")
		x25519 := fs.Bool("x25519", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			st, err := parseKeyStore(*store)
			if err != nil {
				return err
			}
			kind := keysource.PostQuantum
			if *x25519 {
				kind = keysource.X25519
			}
			return runInit(e, st, kind)
		}
	},
}

func runInit(e *env, requested keyStorage, kind keysource.Kind) error {
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
	store, note, err := e.keys.ChooseStore(e.ctx, requested)
	if err != nil {
		return err
	}
	if note != "" {
		e.notef("%s", note)
	}
	if store == storeFile {
		// Before creating anything: the key file is one per user.
		if err := e.keys.CheckFree(e.ctx, store, ""); err != nil {
			return err
		}
	}
	_, encoded, recipient, err := keysource.GenerateIdentity(kind)
	if err != nil {
		return err
	}
	r, err := vault.ParseRecipient(recipient)
	if err != nil {
		return err
	}
	v, err := vault.Create(e.ctx, dir, []age.Recipient{r})
	if err != nil {
		if !errors.Is(err, vault.ErrExists) { // never another process's new vault
			removeNewVault(dir, state == dirMissing) // what Create made before failing
		}
		return err
	}
	id = v.ID()
	v.Close()

	where, err := keepNewKey(e, store, id, encoded)
	if err != nil {
		if rerr := removeNewVault(dir, state == dirMissing); rerr != nil {
			return fmt.Errorf("%w; the new vault could not be removed either (%v): delete %s by hand", err, rerr, dir)
		}
		return fmt.Errorf("%w (nothing was created)", err)
	}
	out := e.stdout
	if store == storeEnv {
		out = e.stderr // standard output carries the key alone
	}
	fmt.Fprintf(out, "created vault %s in %s\n", id, dir)
	fmt.Fprintf(out, "key: %s, public key %s\n", kind, recipient)
	if store == storeEnv {
		fmt.Fprintf(out, "vaultkey: the AUTHVAULT_KEY line on standard output is the vault key and is shown only this once:\n"+
			"vaultkey: put it in your CI secret store (or service manager) now, and set AUTHVAULT_KEY from it where vaultkey and authvault run\n")
	} else {
		fmt.Fprintf(out, "key stored in %s\n", where)
	}
	return nil
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
