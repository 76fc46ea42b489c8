package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"filippo.io/age"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/internal/fsync"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

var rotateCommand = &command{
	name:     "rotate",
	synopsis: "rotate [--keep-identity]",
	summary:  "rotate the data key and, by default, the vault key",
	help: `Rotates the vault's keys: a new data key is generated and every record and
state blob is re-sealed under it; unless --keep-identity is given, a new
vault key (of the same kind as the old one) replaces the old one in the
vault's key slots and in the place the old one came from:

  keyring            the vault's keyring entry is replaced
  key file           the file is replaced (passphrase-protected again if it
                     was: the passphrase comes from $AUTHVAULT_PASSPHRASE or is
                     asked twice on the terminal)
  AUTHVAULT_KEY      the new key is printed on standard output as
                     AUTHVAULT_KEY=<identity>, before the vault switches to
                     it: put it in your CI secret store
  AUTHVAULT_KEY_FILE that file is replaced
  AUTHVAULT_KEY_CMD  the new key is printed as for AUTHVAULT_KEY: store it
                     where the command reads it

Other key slots (backup recipients added with "vaultkey recipients add") are
kept and can open the vault after the rotation.

Rotation is crash-safe: while it runs, the key store holds the new and the
old key together, so that whatever point a crash stops it at, the vault
opens with the key store's key (for the keyring, a second entry named
"<vault id>.next" covers the moment the main entry is replaced). A later
rotate tidies up what an interrupted one left.

Other processes keep reading the vault during a rotation when their key is
still a recipient (always with --keep-identity).

The key file is one per user: if it also opens another vault (one restored
next to the original with "vaultkey import", say), rotating replaces the key
that vault needs too. Give such a vault a key of its own first (vaultkey
recipients add, then AUTHVAULT_KEY_FILE), or rotate with --keep-identity.

  --keep-identity   rotate only the data key; the vault key stays as it is`,
	setup: func(fs *flag.FlagSet) runFunc {
		keep := fs.Bool("keep-identity", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			return runRotate(e, *keep)
		}
	},
}

// envRotateCrash names a point of a rotation at which vaultkey exits with
// status 3, for tests that check every point leaves an openable vault: a
// vault.RekeyStep, "key-staged" (the key store holds the new and the old
// key, before the vault changes) or "before-key-swap" (the vault is
// rotated, the key store still holds both keys); for the keyring also
// "staging-gap" and "swap-gap", when its main entry is briefly missing.
const envRotateCrash = "AUTHVAULT_TEST_ROTATE_CRASH"

func runRotate(e *env, keep bool) error {
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	crashAt := e.getenv(envRotateCrash)
	committed := false
	step := func(s string) {
		if s == string(vault.StepHeader) {
			committed = true
		}
		if crashAt != "" && s == crashAt {
			os.Exit(3)
		}
	}
	hook := func(s vault.RekeyStep) { step(string(s)) }
	entries, err := u.List(e.ctx, vault.Filter{})
	if err != nil {
		return err
	}

	if keep {
		rs, err := parseRecipients(u.Recipients())
		if err != nil {
			return err
		}
		if err := u.Rekey(e.ctx, rs, vault.RekeyOptions{Hook: hook}); err != nil {
			if committed {
				return fmt.Errorf("the data key was rotated, but tidying up failed: %w (harmless; the next rotate or write cleans up)", err)
			}
			return fmt.Errorf("rotating the data key: %w (nothing was changed)", err)
		}
		step("before-key-swap")
		sweep(e, u.Vault)
		fmt.Fprintf(e.stdout, "rotated the data key of vault %s: %d record(s) re-sealed; the vault key is unchanged\n", u.ID(), len(entries))
		return nil
	}

	oldRecips, err := nativeRecipients(u.Identities)
	if err != nil {
		return fmt.Errorf("%v: vaultkey cannot make a new key of that kind; rotate with --keep-identity, and replace the key slot with vaultkey recipients add/remove", err)
	}
	oldText, err := encodeIdentities(u.Identities)
	if err != nil {
		return err
	}
	target, err := rotationTarget(e, u, step)
	if err != nil {
		return err
	}
	kind := kindOf(u.Identities)
	newID, encoded, newRecip, err := keysource.GenerateIdentity(kind)
	if err != nil {
		return err
	}
	var next []string
	for _, r := range u.Recipients() {
		if !slices.Contains(oldRecips, r) {
			next = append(next, r)
		}
	}
	next = append(next, newRecip)
	rs, err := parseRecipients(next)
	if err != nil {
		return err
	}

	if err := target.prepare(e.ctx); err != nil {
		return err
	}
	if err := target.stage(e.ctx, encoded+"\n"+oldText, encoded); err != nil {
		return fmt.Errorf("storing the new key in %s: %w (the vault was not changed)", target, err)
	}
	step("key-staged")
	err = u.Rekey(e.ctx, rs, vault.RekeyOptions{Identities: []age.Identity{newID}, Hook: hook})
	if err != nil && !committed {
		// Not committed: the vault still needs the old key alone.
		if aerr := target.abort(background(), oldText); aerr != nil {
			return fmt.Errorf("rotating: %w; the vault still opens with the old key, which %s still holds next to an unused new one (%v)", err, target, aerr)
		}
		return fmt.Errorf("rotating: %w (nothing was changed; the old key still opens the vault)", err)
	}
	step("before-key-swap")
	if ferr := target.finish(background(), encoded); ferr != nil {
		return fmt.Errorf("the vault was rotated, but dropping the old key from %s failed (%v): it holds the new key next to the old one, which opens the vault; run vaultkey rotate again to finish", target, ferr)
	}
	if err != nil {
		e.notef("the vault was rotated, but tidying up failed: %v (harmless; the next rotate or write cleans up)", err)
	}
	sweep(e, u.Vault)
	out := e.stdout
	if _, ok := target.(*envTarget); ok {
		out = e.stderr
	}
	fmt.Fprintf(out, "rotated vault %s: new data key, %d record(s) re-sealed\n", u.ID(), len(entries))
	fmt.Fprintf(out, "new %s key, public key %s, kept in %s; the old key no longer opens the vault\n", kind, vault.Fingerprint(newRecip), target)
	return nil
}

func background() context.Context { return context.Background() }

func parseRecipients(ss []string) ([]age.Recipient, error) {
	rs := make([]age.Recipient, 0, len(ss))
	for _, s := range ss {
		r, err := vault.ParseRecipient(s)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// sweep removes files an interrupted write or rotation left behind.
func sweep(e *env, v *vault.Vault) {
	if _, err := v.Sweep(e.ctx); err != nil {
		e.notef("note: removing leftover files failed: %v (harmless)", err)
	}
}

// A keyTarget is where the vault key being rotated is kept. Between stage
// and finish (or abort) it holds the new and the old key together, so the
// vault opens with what it holds whether or not the rotation committed.
type keyTarget interface {
	fmt.Stringer
	// prepare tidies what an interrupted rotation left and gathers what
	// stage needs (a passphrase).
	prepare(ctx context.Context) error
	// stage keeps both (the new and the old identity); next is the new
	// one alone.
	stage(ctx context.Context, both, next string) error
	// finish keeps only next, the new key.
	finish(ctx context.Context, next string) error
	// abort keeps only old, after a rotation that did not commit.
	abort(ctx context.Context, old string) error
}

// rotationTarget returns where the key that opened u is kept. step is
// called at the crash-test points inside a target.
func rotationTarget(e *env, u *unlocked, step func(string)) (keyTarget, error) {
	switch s := u.Source.(type) {
	case *keysource.Env:
		if p := e.getenv(keysource.EnvKeyFile); p != "" {
			return &fileTarget{e: e, path: p}, nil
		}
		variable := keysource.EnvKey
		if e.getenv(keysource.EnvKeyCommand) != "" {
			variable = keysource.EnvKeyCommand
		}
		return &envTarget{e: e, variable: variable}, nil
	case *keysource.Keyring:
		return &keyringTarget{e: e, main: e.keys.Keyring(u.ID()), pending: pendingEntry(e.keys.Keyring(u.ID())), step: step}, nil
	case *keysource.File:
		path := s.Path
		if path == "" {
			var err error
			if path, err = e.keys.FilePath(); err != nil {
				return nil, err
			}
		}
		return &fileTarget{e: e, path: path}, nil
	}
	return nil, fmt.Errorf("the key came from %s, where vaultkey cannot store a new one: rotate with --keep-identity", e.keys.Describe(u.Source))
}

// fileTarget replaces a key file. Every change is a complete new file
// (<path>.new, synced) renamed over the old one, so the file always holds
// a key that opens the vault.
type fileTarget struct {
	e          *env
	path       string
	encrypted  bool
	passphrase string
}

func (t *fileTarget) String() string { return "key file " + t.path }

func (t *fileTarget) prepare(ctx context.Context) error {
	f, err := os.Open(t.path)
	if err != nil {
		return err
	}
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = bytes.TrimSpace(head[:n])
	t.encrypted = bytes.HasPrefix(head, []byte("age-encryption.org/")) || bytes.HasPrefix(head, []byte("-----BEGIN AGE ENCRYPTED FILE-----"))
	if t.encrypted {
		if t.passphrase, err = newPassphrase(t.e.getenv, t.e.stdin, t.e.stderr, "Passphrase to protect "+t.path+" with: "); err != nil {
			return fmt.Errorf("the key file is passphrase-protected and so will be the new one: %w", err)
		}
	}
	// A leftover of an interrupted rotation: never the only copy of a key
	// that opens the vault, since the rename is what makes it count.
	if err := os.Remove(t.path + ".new"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (t *fileTarget) write(ctx context.Context, text string) error {
	tmp := t.path + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f := &keysource.File{Path: tmp, Getenv: t.e.getenv}
	var err error
	if t.encrypted {
		err = f.StoreEncrypted(ctx, text, t.passphrase)
	} else {
		err = f.Store(ctx, text)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, t.path); err != nil {
		return err
	}
	return fsync.Dir(filepath.Dir(t.path))
}

func (t *fileTarget) stage(ctx context.Context, both, _ string) error { return t.write(ctx, both) }
func (t *fileTarget) finish(ctx context.Context, next string) error   { return t.write(ctx, next) }
func (t *fileTarget) abort(ctx context.Context, old string) error     { return t.write(ctx, old) }

// keyringTarget replaces the vault's keyring entry. A keyring cannot
// replace an entry atomically (Store refuses an existing one), so the
// pending entry "<vault id>.next", holding the new and the old key, covers
// the moment between deleting the main entry and writing it again.
type keyringTarget struct {
	e             *env
	main, pending *keysource.Keyring
	step          func(string) // crash-test points: "staging-gap", "swap-gap"
}

func (t *keyringTarget) String() string { return t.e.keys.Describe(t.main) }

// pendingEntry is the keyring entry that holds both keys while a rotation
// of main's vault is under way (keysource.PendingSuffix).
func pendingEntry(main *keysource.Keyring) *keysource.Keyring {
	p := *main
	p.Account += keysource.PendingSuffix
	return &p
}

func (t *keyringTarget) prepare(ctx context.Context) error {
	has, err := t.pending.Has(ctx)
	if err != nil || !has {
		return err
	}
	// An interrupted rotation left the pending entry. The main entry, when
	// it exists, opens the vault (it is only ever replaced while the
	// pending entry covers it); when it does not, the pending one does and
	// takes its place.
	hasMain, err := t.main.Has(ctx)
	if err != nil {
		return err
	}
	if !hasMain {
		ids, err := t.pending.Identities(ctx)
		if err != nil {
			return err
		}
		text, err := encodeIdentities(ids)
		if err != nil {
			return err
		}
		if err := t.main.Store(ctx, text); err != nil {
			return err
		}
	}
	return t.pending.Delete(ctx)
}

// replace writes text to the main entry. In between, the entry is
// missing and the pending one serves; gap names that moment for crash
// tests.
func (t *keyringTarget) replace(ctx context.Context, text, gap string) error {
	var nf *keysource.NotFoundError
	if err := t.main.Delete(ctx); err != nil && !errors.As(err, &nf) {
		return err
	}
	t.step(gap)
	return t.main.Store(ctx, text)
}

func (t *keyringTarget) stage(ctx context.Context, both, _ string) error {
	if err := t.pending.Store(ctx, both); err != nil {
		return err
	}
	return t.replace(ctx, both, "staging-gap")
}

func (t *keyringTarget) finish(ctx context.Context, next string) error {
	if err := t.replace(ctx, next, "swap-gap"); err != nil {
		return err
	}
	return t.pending.Delete(ctx)
}

func (t *keyringTarget) abort(ctx context.Context, old string) error {
	if err := t.replace(ctx, old, "abort-gap"); err != nil {
		return err
	}
	return t.pending.Delete(ctx)
}

// envTarget is a key given in the environment, which vaultkey cannot
// change: the new key is printed before the vault switches to it, so that
// it is never lost.
type envTarget struct {
	e        *env
	variable string
}

func (t *envTarget) String() string { return "the environment (" + t.variable + ")" }

func (t *envTarget) prepare(context.Context) error { return nil }

func (t *envTarget) stage(_ context.Context, _, next string) error {
	if err := printEnvKey(t.e.stdout, next); err != nil {
		return fmt.Errorf("printing the new key: %w", err)
	}
	return nil
}

func (t *envTarget) finish(context.Context, string) error {
	where := "replace " + t.variable + " in your CI secret store (or service manager) with it"
	if t.variable == keysource.EnvKeyCommand {
		where = "store it where " + keysource.EnvKeyCommand + " reads the key"
	}
	t.e.notef("the vault now opens only with the new key printed on standard output: %s", where)
	return nil
}

func (t *envTarget) abort(context.Context, string) error {
	t.e.notef("the new key printed on standard output was NOT applied: keep the old %s", t.variable)
	return nil
}
