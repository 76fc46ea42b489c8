package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"filippo.io/age"

	"github.com/authvault/authvault/backup"
	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

var importCommand = &command{
	name:     "import",
	synopsis: "import FILE [-i IDENTITY_FILE]... [--merge | --replace] [--dry-run] [--key-store keyring|file|env]",
	summary:  "restore a backup made by export",
	help: `Restores a backup written by "vaultkey export" (FILE, or - for standard
input). It is decrypted with the identities in the -i files, with the vault's
own key (when importing into an existing vault and no -i is given), or, when
it is passphrase-encrypted, with the passphrase from $AUTHVAULT_PASSPHRASE or
the terminal.

Everything is checked before anything changes: the file's authenticity
(a truncated or modified backup is refused), the bundle's format and every
record. The changes are then committed at once, all or nothing.

Into a directory without a vault (missing or empty), import recreates the
vault with every record, opened by the backup's key when it holds one, else
by a new post-quantum key. The key is kept as init keeps one (--key-store;
by default in the environment when AUTHVAULT_KEY, AUTHVAULT_KEY_FILE or
AUTHVAULT_KEY_CMD is set, which means printing AUTHVAULT_KEY=… on standard
output unless the key set there is the same; else in the keyring when one
answers, else in the key file, reused when it already holds that key: the
two vaults then share the key, and rotating it in one locks the other out).

Into an existing vault:
  --merge     (default) add the records it lacks and replace those the backup
              holds a newer version of (by update time); newer records in the
              vault are kept
  --replace   make the vault equal to the backup: add, replace every record
              that differs, and remove records the backup does not hold
If the vault's key is missing from every key source and the backup holds
the key that opens the vault, that key is restored to the key store too.

  -i, --identity FILE   an age identity file (as age-keygen writes); repeatable
  --dry-run             check the backup and report what would change, and
                        change nothing
  --key-store STORE     where the key goes when one is created or restored

Prints how many records were added, updated, unchanged and removed.

Examples:
  vaultkey import -i offline-key.txt vault-backup.age
  vaultkey --dir /tmp/restored import vault-backup.age -i offline-key.txt
  AUTHVAULT_PASSPHRASE=… vaultkey import records.age --replace --dry-run`,
	setup: func(fs *flag.FlagSet) runFunc {
		var o importOptions
		fs.Func("i", "", appendTo(&o.identityFiles))
		fs.Func("identity", "", appendTo(&o.identityFiles))
		fs.BoolVar(&o.merge, "merge", false, "")
		fs.BoolVar(&o.replace, "replace", false, "")
		fs.BoolVar(&o.dryRun, "dry-run", false, "")
		fs.StringVar(&o.keyStore, "key-store", "", "")
		return func(e *env, args []string) error {
			switch len(args) {
			case 0:
				return cli.Usagef("name the backup file (or - for standard input)")
			case 1:
			default:
				return cli.Usagef("unexpected argument %q: import one backup at a time", args[1])
			}
			return runImport(e, args[0], &o)
		}
	},
}

type importOptions struct {
	identityFiles []string
	merge         bool
	replace       bool
	dryRun        bool
	keyStore      string
}

// importCounts is what an import changed, or would change.
type importCounts struct {
	added, updated, unchanged, removed int
	keptNewer                          int // unchanged because the vault's copy is newer
}

func (c importCounts) String() string {
	return fmt.Sprintf("%d added, %d updated, %d unchanged, %d removed", c.added, c.updated, c.unchanged, c.removed)
}

func runImport(e *env, file string, o *importOptions) error {
	if o.merge && o.replace {
		return cli.Usagef("--merge and --replace exclude each other")
	}
	store, err := parseKeyStore(o.keyStore)
	if err != nil {
		return err
	}
	dir, err := e.vaultDir()
	if err != nil {
		return err
	}
	state, vaultID, err := inspectDir(dir)
	if err != nil {
		return err
	}
	if state == dirOther {
		return fmt.Errorf("%s is not empty and holds no vault: import into an existing vault, or a new or empty directory (--dir)", dir)
	}
	ids, err := importIdentities(e, o, state == dirVault, vaultID)
	if err != nil {
		return err
	}
	b, err := readBundle(e, file, ids)
	if err != nil {
		return err
	}
	if state == dirVault {
		return importInto(e, dir, b, o, store)
	}
	return importNew(e, dir, state == dirMissing, b, o, store)
}

// importIdentities returns the identities the backup may be encrypted to:
// the -i files', a passphrase asked for only if the file needs one, and the
// vault's own key, looked up only if needed.
func importIdentities(e *env, o *importOptions, haveVault bool, vaultID string) ([]age.Identity, error) {
	var ids []age.Identity
	for _, path := range o.identityFiles {
		got, err := readIdentityFile(e, path)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	ids = append(ids, &passphraseIdentity{Get: func() (string, error) {
		return getPassphrase(e.getenv, e.stdin, e.stderr, "Passphrase for the backup: ")
	}})
	if len(o.identityFiles) == 0 && haveVault {
		ids = append(ids, &lazyIdentities{Get: func() ([]age.Identity, error) {
			ids, _, err := keysource.Default(vaultID, e.getenv).Resolve(e.ctx)
			return ids, err
		}})
	}
	return ids, nil
}

// readIdentityFile reads an age identity file, which may itself be
// passphrase-protected.
func readIdentityFile(e *env, path string) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-i %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	f.Close()
	defer clear(data)
	if err != nil {
		return nil, fmt.Errorf("-i %s: %w", path, err)
	}
	if bytes.HasPrefix(data, []byte("age-encryption.org/")) || bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
		ids, err := (&keysource.File{Path: path, Getenv: e.getenv}).Identities(e.ctx)
		if err != nil {
			return nil, fmt.Errorf("-i %s: %w", path, err)
		}
		return ids, nil
	}
	ids, err := keysource.ParseIdentities(data)
	if err != nil {
		return nil, fmt.Errorf("-i %s: %w", path, err)
	}
	return ids, nil
}

// readBundle decrypts and checks the backup completely.
func readBundle(e *env, file string, ids []age.Identity) (*backup.Bundle, error) {
	var in io.Reader = e.stdin
	name := "standard input"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in, name = f, file
	}
	plain, err := backup.Decrypt(in, ids...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (nothing was changed)", name, err)
	}
	defer clear(plain)
	b, err := backup.Unmarshal(plain)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (nothing was changed)", name, err)
	}
	return b, nil
}

// importInto merges or replaces the backup's records into the existing
// vault in dir.
func importInto(e *env, dir string, b *backup.Bundle, o *importOptions, store keyStorage) error {
	if o.replace && !b.HasRecords {
		return errors.New("the backup holds only a key: --replace would remove every record (nothing was changed)")
	}
	u, err := e.keys.OpenVault(e.ctx, dir)
	restoreKey := false
	var nk *keysource.NoKeyError
	if errors.As(err, &nk) && nk.Absent() && b.Identity != "" {
		// No key anywhere: the backup's may be the vault's.
		bids, perr := keysource.ParseIdentities([]byte(b.Identity))
		if perr == nil {
			if v, oerr := vault.Open(e.ctx, dir, bids); oerr == nil {
				u, err, restoreKey = &unlocked{Vault: v, Identities: bids}, nil, true
			}
		}
	}
	if err != nil {
		return err
	}
	defer u.Close()
	if u.ID() != b.VaultID {
		e.notef("note: the backup was taken of vault %s; importing its records into vault %s", b.VaultID, u.ID())
	}

	var c importCounts
	if b.HasRecords {
		err = u.Batch(e.ctx, func(bt *vault.Batch) error {
			c = importCounts{}
			inBackup := make(map[records.ID]bool, len(b.Records))
			for _, r := range b.Records {
				inBackup[r.ID()] = true
				cur, err := bt.Get(r.ID())
				switch {
				case errors.Is(err, vault.ErrNotFound):
					c.added++
				case err != nil:
					return err
				case sameContent(cur, r):
					c.unchanged++
					continue
				case o.replace || r.Updated.After(cur.Updated):
					c.updated++
				default:
					c.unchanged++
					c.keptNewer++
					continue
				}
				if err := bt.Restore(r); err != nil {
					return err
				}
			}
			if o.replace {
				for _, en := range bt.List(vault.Filter{}) {
					if !inBackup[en.ID] {
						c.removed++
						if err := bt.Delete(en.ID); err != nil {
							return err
						}
					}
				}
			}
			if o.dryRun {
				return errDryRun
			}
			return nil
		})
		if err != nil && !errors.Is(err, errDryRun) {
			return fmt.Errorf("importing: %w (nothing was changed)", err)
		}
	}

	out := e.stdout
	if restoreKey {
		if store == "" {
			var note string
			if store, note, err = e.keys.ChooseStore(e.ctx, ""); err != nil {
				return err
			}
			if note != "" {
				e.notef("%s", note)
			}
		}
		if o.dryRun {
			e.notef("the vault's key was found nowhere; the backup's key opens it and would be kept in %s", store)
		} else {
			if store == storeEnv {
				out = e.stderr
			}
			where, err := keepNewKey(e, store, u.ID(), b.Identity)
			if err != nil {
				return fmt.Errorf("the records were imported, but keeping the vault key failed: %w", err)
			}
			fmt.Fprintf(out, "the vault's key was found nowhere; restored it from the backup into %s\n", where)
		}
	}
	if !b.HasRecords {
		fmt.Fprintf(out, "the backup holds no records, only a key\n")
		return nil
	}
	if c.keptNewer > 0 {
		e.notef("%d record(s) left as they are: the vault's copy is newer than the backup's (--replace takes the backup's)", c.keptNewer)
	}
	if o.dryRun {
		fmt.Fprintf(out, "dry run, nothing changed: importing into vault %s (%s) would give %s\n", u.ID(), dir, c)
		return nil
	}
	fmt.Fprintf(out, "imported into vault %s (%s): %s\n", u.ID(), dir, c)
	return nil
}

// importNew recreates a vault from the backup in dir, which has none.
func importNew(e *env, dir string, dirWasMissing bool, b *backup.Bundle, o *importOptions, store keyStorage) error {
	encoded := b.Identity
	var recips []string
	if encoded != "" {
		bids, err := keysource.ParseIdentities([]byte(encoded))
		if err != nil {
			return fmt.Errorf("the backup's key: %w", err)
		}
		if recips, err = nativeRecipients(bids); err != nil {
			return fmt.Errorf("cannot recreate the vault with the backup's key: %v; create a vault that your key opens (vaultkey init, then vaultkey recipients add), then import into it", err)
		}
	} else {
		var r string
		var err error
		if _, encoded, r, err = keysource.GenerateIdentity(keysource.PostQuantum); err != nil {
			return err
		}
		recips = []string{r}
	}

	var err error
	switch {
	case store == "" && envKeySet(e):
		store = storeEnv
	case store == "" || store == storeKeyring:
		var note string
		if store, note, err = e.keys.ChooseStore(e.ctx, store); err != nil {
			return err
		}
		if note != "" {
			e.notef("%s", note)
		}
	}
	reuse, err := keyAlreadyKept(e, store, b.Identity != "", recips)
	if err != nil {
		return err
	}
	c := importCounts{added: len(b.Records)}
	keyFrom := "a new key"
	if b.Identity != "" {
		keyFrom = "the backup's key"
	}
	if o.dryRun {
		fmt.Fprintf(e.stdout, "dry run, nothing changed: would create a vault in %s opened by %s (kept in %s), giving %s\n", dir, keyFrom, store, c)
		return nil
	}

	rs := make([]age.Recipient, 0, len(recips))
	for _, s := range recips {
		r, err := vault.ParseRecipient(s)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	v, err := vault.Create(e.ctx, dir, rs)
	if err != nil {
		if !errors.Is(err, vault.ErrExists) { // never another process's new vault
			removeNewVault(dir, dirWasMissing) // what Create made before failing
		}
		return explainRecipients(err)
	}
	id := v.ID()
	err = v.Batch(e.ctx, func(bt *vault.Batch) error {
		for _, r := range b.Records {
			if err := bt.Restore(r); err != nil {
				return err
			}
		}
		return nil
	})
	v.Close()
	var kept string
	if err == nil && !reuse {
		kept, err = keepNewKey(e, store, id, encoded)
	}
	if err != nil {
		if rerr := removeNewVault(dir, dirWasMissing); rerr != nil {
			return fmt.Errorf("%w; the partial vault could not be removed either (%v): delete %s by hand", err, rerr, dir)
		}
		return fmt.Errorf("%w (nothing was created)", err)
	}
	out := e.stdout
	if store == storeEnv && !reuse {
		out = e.stderr
	}
	fmt.Fprintf(out, "created vault %s in %s, opened by %s\n", id, dir, keyFrom)
	switch {
	case reuse && store == storeEnv:
		fmt.Fprintf(out, "the environment already holds the backup's key\n")
	case reuse:
		path, _ := e.keys.FilePath()
		fmt.Fprintf(out, "the key file %s already holds the backup's key\n", path)
	case store == storeEnv:
		e.notef("the AUTHVAULT_KEY line on standard output is the vault key: put it in your CI secret store (or service manager) and set AUTHVAULT_KEY from it")
	default:
		fmt.Fprintf(out, "key stored in %s\n", kept)
	}
	fmt.Fprintf(out, "imported into vault %s (%s): %s\n", id, dir, c)
	return nil
}

// envKeySet reports whether the environment names a vault key.
func envKeySet(e *env) bool {
	return e.getenv(keysource.EnvKey) != "" || e.getenv(keysource.EnvKeyFile) != "" || e.getenv(keysource.EnvKeyCommand) != ""
}

// keyAlreadyKept reports whether store already holds a key that opens a
// vault encrypted to recips (only possible for a key from the backup), and
// fails when it holds another key that must not be overwritten.
func keyAlreadyKept(e *env, store keyStorage, fromBackup bool, recips []string) (bool, error) {
	var src keysource.Source
	switch store {
	case storeFile:
		path, err := e.keys.FilePath()
		if err != nil {
			return false, err
		}
		f := &keysource.File{Path: path, Getenv: e.getenv}
		has, err := f.Has(e.ctx)
		if err != nil || !has {
			return false, err
		}
		src = f
	case storeEnv:
		if !envKeySet(e) {
			return false, nil
		}
		src = &keysource.Env{Getenv: e.getenv}
	default:
		return false, nil // the keyring entry is named by the new vault's id
	}
	if fromBackup {
		if ids, err := src.Identities(e.ctx); err == nil {
			if have, err := nativeRecipients(ids); err == nil && slices.ContainsFunc(have, func(r string) bool { return slices.Contains(recips, r) }) {
				return true, nil
			}
		}
	}
	if store == storeFile {
		return false, e.keys.CheckFree(e.ctx, store, "")
	}
	return false, nil
}

// sameContent reports whether two versions of a record hold the same
// credential, metadata and times; the generation is the vault's own.
func sameContent(a, b *records.Record) bool {
	ac, bc := a.Clone(), b.Clone()
	ac.Generation, bc.Generation = 0, 0
	am, err1 := records.Marshal(ac)
	bm, err2 := records.Marshal(bc)
	defer clear(am)
	defer clear(bm)
	return err1 == nil && err2 == nil && bytes.Equal(am, bm)
}

// errDryRun aborts a batch after planning, so that nothing is committed.
var errDryRun = errors.New("dry run")
