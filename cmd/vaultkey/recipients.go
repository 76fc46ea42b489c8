package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/vault"
)

var recipientsCommand = &command{
	name:     "recipients",
	synopsis: "recipients list | add RECIPIENT | remove RECIPIENT",
	summary:  "list, add or remove the vault's key slots",
	help: `The vault's data key is wrapped to every recipient (age public key) in its
key slots: any of the matching identities opens the vault. Add a slot for a
backup key or a hardware key; remove one to lock a key out.

age does not mix post-quantum and classic recipients (that would undo the
post-quantum protection): a vault made with a post-quantum key (the
default) takes only age1pq1… recipients; one made with "init --x25519"
takes X25519 (age1…) and plugin recipients such as age1yubikey1… (with
age-plugin-yubikey on PATH).`,
	subs: []*command{recipientsListCommand, recipientsAddCommand, recipientsRemoveCommand},
}

var recipientsListCommand = &command{
	name:     "list",
	synopsis: "recipients list [--json]",
	summary:  "print the public keys of the key slots",
	help: `Prints the public key of every key slot, one per line: the output can be
given to "vaultkey export -R" or "age -R".

  --json   print a JSON array`,
	setup: func(fs *flag.FlagSet) runFunc {
		asJSON := fs.Bool("json", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			u, err := e.openVault()
			if err != nil {
				return err
			}
			defer u.Close()
			if *asJSON {
				return cli.WriteJSON(e.stdout, u.Recipients())
			}
			for _, r := range u.Recipients() {
				if _, err := fmt.Fprintln(e.stdout, r); err != nil {
					return err
				}
			}
			return nil
		}
	},
}

var recipientsAddCommand = &command{
	name:     "add",
	synopsis: "recipients add RECIPIENT",
	summary:  "add a key slot",
	help: `Adds a key slot: the vault's data key is also wrapped to RECIPIENT (age1pq1…
for a post-quantum vault; age1… or a plugin recipient such as age1yubikey1…
for an X25519 one). No record is rewritten. The matching identity then opens
the vault, for instance through AUTHVAULT_KEY_FILE.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("name exactly one recipient")
			}
			if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(args[0])), "AGE-") {
				return cli.Usagef("that is an identity (a secret key), not a recipient: give its public key (age-keygen -y prints it)")
			}
			r, err := vault.ParseRecipient(args[0])
			if err != nil {
				return cli.Usagef("%v", err)
			}
			u, err := e.openVault()
			if err != nil {
				return err
			}
			defer u.Close()
			if err := u.AddRecipient(e.ctx, r); err != nil {
				return explainRecipients(err)
			}
			fmt.Fprintf(e.stdout, "added a key slot for %s; vault %s now has %d\n", strings.TrimSpace(args[0]), u.ID(), len(u.Recipients()))
			return nil
		}
	},
}

var recipientsRemoveCommand = &command{
	name:     "remove",
	aliases:  []string{"rm"},
	synopsis: "recipients remove RECIPIENT",
	summary:  "remove a key slot and rotate the data key",
	help: `Removes a key slot and rotates the data key, re-sealing every record, so
that the removed key cannot read anything written from now on. (It can still
read copies of the vault taken before.)

The key this command opens the vault with cannot be removed (that would lock
it out): use "vaultkey rotate" to replace it. The last slot cannot be
removed either.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("name exactly one recipient")
			}
			target := strings.TrimSpace(args[0])
			u, err := e.openVault()
			if err != nil {
				return err
			}
			defer u.Close()
			if !slices.Contains(u.Recipients(), target) {
				return fmt.Errorf("%s is not a recipient of vault %s (see: vaultkey recipients list)", target, u.ID())
			}
			if own, err := nativeRecipients(u.Identities); err == nil && slices.Contains(own, target) {
				return fmt.Errorf("%s is the public key of the key from %s, which this command opened the vault with: removing it would lock that key out; replace it with: vaultkey rotate", target, e.keys.Describe(u.Source))
			}
			entries, err := u.List(e.ctx, vault.Filter{})
			if err != nil {
				return err
			}
			if err := u.RemoveRecipient(e.ctx, target); err != nil {
				return err
			}
			sweep(e, u.Vault)
			fmt.Fprintf(e.stdout, "removed the key slot for %s and rotated the data key (%d record(s) re-sealed); vault %s now has %d slot(s)\n",
				target, len(entries), u.ID(), len(u.Recipients()))
			return nil
		}
	},
}
