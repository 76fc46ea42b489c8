package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

var copyCommand = &command{
	name:     "copy",
	synopsis: "copy SRC DST",
	summary:  "copy a vault between a directory and Redis",
	help: `Copies the vault at SRC to DST, where each is a vault directory or a
Redis URL:

  redis://[user:password@]host:port/db?prefix=P   (rediss:// for TLS)

The prefix (default "authvault") names the vault inside the database, so
several vaults can share one. A vault in Redis is how replicas of a
service on several machines share one vault and one account pool. Every
vaultkey command that works on an existing vault takes such a URL as
--dir (or $AUTHVAULT_DIR), and programs pass it where they would pass a
directory; init and import make vaults in directories only, which is
what copy is for.

The copy is blob for blob: the sealed files as they are, nothing is
decrypted, so no key is needed and the copy opens with the same keys
(and the same keyring entry or key file) as the original. It is all or
nothing: on failure DST is left as it was. Both vaults are locked
meanwhile, so the copy is a consistent snapshot.

DST must not hold a vault: vaultkey copy never overwrites one. A
directory DST must be missing or empty.

Afterwards there are two vaults with the same id: use one of them from
then on, since a write to one is not seen by the other (an account's
refreshed token, above all: providers that rotate refresh tokens accept
each one once).

URLs are printed without their password.

Examples:
  vaultkey init --dir ./team-vault
  vaultkey copy ./team-vault "redis://:$REDIS_PASSWORD@redis.internal:6379/0?prefix=team-a"
  vaultkey --dir "redis://:$REDIS_PASSWORD@redis.internal:6379/0?prefix=team-a" status
  vaultkey copy "redis://:$REDIS_PASSWORD@redis.internal:6379/0?prefix=team-a" ./backup-vault`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) != 2 {
				return cli.Usagef("name a source and a destination")
			}
			return runCopy(e, args[0], args[1])
		}
	},
}

func runCopy(e *env, src, dst string) error {
	srcName, dstName := displayName(src), displayName(dst)
	if !vault.IsURL(src) {
		state, _, err := inspectDir(src)
		if err != nil {
			return err
		}
		if state != dirVault {
			return fmt.Errorf("%s holds no vault", srcName)
		}
	}
	dstMissing := false
	if !vault.IsURL(dst) {
		state, id, err := inspectDir(dst)
		if err != nil {
			return err
		}
		switch state {
		case dirVault:
			return fmt.Errorf("%s already holds a vault (id %s): vaultkey copy never overwrites one", dstName, id)
		case dirOther:
			return fmt.Errorf("%s is not empty and holds no vault: copy to a new or empty directory", dstName)
		}
		dstMissing = state == dirMissing
	}

	from, err := openStore(e, src)
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := openStore(e, dst)
	if err != nil {
		return err
	}
	defer to.Close()
	id, err := storeVaultID(src, from)
	if err != nil {
		return err
	}

	if err := redisstore.Copy(e.ctx, from, to); err != nil {
		if !vault.IsURL(dst) && !errors.Is(err, vault.ErrExists) {
			// A directory the copy created, or filled with its lock file,
			// goes back to how it was.
			if rerr := removeNewVault(dst, dstMissing); rerr != nil {
				e.notef("warning: %v", rerr)
			}
		}
		switch {
		case errors.Is(err, vault.ErrExists):
			return fmt.Errorf("%s already holds a vault: vaultkey copy never overwrites one", dstName)
		case errors.Is(err, vault.ErrNoVault):
			return fmt.Errorf("%s holds no vault", srcName)
		}
		return fmt.Errorf("copying %s to %s: %w (the destination was left as it was)", srcName, dstName, err)
	}
	fmt.Fprintf(e.stdout, "copied vault %s from %s to %s\n", id, srcName, dstName)
	e.notef("both copies have the same id and keys: use one of them from now on (vaultkey --dir %s …)", dstName)
	return nil
}

// openStore returns the store s names: a directory, which need not exist
// yet, or a store URL.
func openStore(e *env, s string) (vault.Store, error) {
	if !vault.IsURL(s) {
		return vault.DirStore(s), nil
	}
	st, _, err := vault.OpenURL(e.ctx, s)
	return st, err
}

// storeVaultID returns the id of the vault in st, which s names.
func storeVaultID(s string, st vault.Store) (string, error) {
	if vault.IsURL(s) {
		id, err := vault.StoreID(st)
		if errors.Is(err, vault.ErrNoVault) {
			return "", fmt.Errorf("%s holds no vault", displayName(s))
		}
		return id, err
	}
	return vault.ReadID(s)
}
