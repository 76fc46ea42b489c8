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

Recipients are shown by a short fingerprint: the type prefix and the first
and last eight characters (a post-quantum recipient is some 2,000
characters). "recipients list --full" and --json print them whole.

A vault made with a post-quantum key (the default) takes post-quantum
recipients (age1pq1…, from age-keygen -pq); one made with "init --x25519"
takes classic ones: X25519 (age1…) and plugin recipients such as
age1yubikey1… (with age-plugin-yubikey on PATH). age refuses to mix the
two kinds, since the data key is then only as strong as the classic
recipient: a quantum computer could unwrap it from that slot. "recipients
add --classic" accepts the mix for a vault that needs it (a YubiKey as a
backup of a post-quantum key, say); status then says so.`,
	subs: []*command{recipientsListCommand, recipientsAddCommand, recipientsRemoveCommand},
}

var recipientsListCommand = &command{
	name:     "list",
	synopsis: "recipients list [--full] [--json]",
	summary:  "print the public keys of the key slots",
	help: `Prints the key slots, one per line: each recipient's fingerprint and
whether it is post-quantum or classic (and, on standard error, a note when
they mix the two).

  --full   print each recipient (age public key) whole, one per line: the
           output can be given to "vaultkey export -R" or "age -R"
  --json   print a JSON array of the whole recipients`,
	setup: func(fs *flag.FlagSet) runFunc {
		full := fs.Bool("full", false, "")
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
				line := r
				if !*full {
					line = vault.Fingerprint(r) + "  " + recipientKind(r)
				}
				if _, err := fmt.Fprintln(e.stdout, line); err != nil {
					return err
				}
			}
			if vault.Mixed(u.Recipients()) {
				e.notef("note: %s", mixedNote)
			}
			return nil
		}
	},
}

// mixedNote is what status and recipients say of a vault whose recipients
// mix post-quantum and classic ones.
const mixedNote = "post-quantum and classic recipients: the data key is only as strong as the classic ones"

func recipientKind(r string) string {
	if vault.PostQuantum(r) {
		return "post-quantum"
	}
	return "classic"
}

var recipientsAddCommand = &command{
	name:     "add",
	synopsis: "recipients add [--classic] RECIPIENT",
	summary:  "add a key slot",
	help: `Adds a key slot: the vault's data key is also wrapped to RECIPIENT (age1pq1…
for a post-quantum vault; age1… or a plugin recipient such as age1yubikey1…
for an X25519 one). No record is rewritten. The matching identity then opens
the vault, for instance through AUTHVAULT_KEY_FILE.

  --classic   accept a classic recipient on a post-quantum vault (or the
              reverse): the data key is then only as strong as the classic
              recipient, which a quantum computer could break`,
	setup: func(fs *flag.FlagSet) runFunc {
		classic := fs.Bool("classic", false, "")
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("name exactly one recipient")
			}
			arg := strings.TrimSpace(args[0])
			if strings.HasPrefix(strings.ToUpper(arg), "AGE-") {
				return cli.Usagef("that is an identity (a secret key), not a recipient: give its public key (age-keygen -y prints it)")
			}
			r, err := vault.ParseRecipient(arg)
			if err != nil {
				return cli.Usagef("%v", err)
			}
			u, err := e.openVault()
			if err != nil {
				return err
			}
			defer u.Close()
			cur := u.Recipients()
			mixes := vault.Mixed(append(slices.Clone(cur), arg)) && !vault.Mixed(cur)
			if mixes && !*classic {
				return explainMix(u.ID(), cur, arg)
			}
			var opts []vault.AddOption
			if *classic {
				opts = append(opts, vault.AllowClassic())
			}
			if err := u.AddRecipient(e.ctx, r, opts...); err != nil {
				return explainRecipients(err)
			}
			fmt.Fprintf(e.stdout, "added a key slot for %s (%s); vault %s now has %d\n", vault.Fingerprint(arg), recipientKind(arg), u.ID(), len(u.Recipients()))
			if vault.Mixed(u.Recipients()) {
				fmt.Fprintf(e.stdout, "vault %s has %s\n", u.ID(), mixedNote)
			}
			return nil
		}
	},
}

// explainMix is the error for a recipient of the other kind than the
// vault's, given without --classic.
func explainMix(vaultID string, cur []string, arg string) error {
	if vault.PostQuantum(arg) {
		return fmt.Errorf("vault %s has classic recipients and %s is post-quantum: age does not mix the two, since a post-quantum slot adds no protection while a classic one remains; "+
			"to accept that, run: vaultkey recipients add --classic RECIPIENT", vaultID, vault.Fingerprint(arg))
	}
	return fmt.Errorf("vault %s is post-quantum and %s is a classic recipient: age does not mix the two, since the data key would then be only as strong as the classic recipient (a quantum computer could unwrap it from that slot); "+
		"either add a post-quantum recipient (age-keygen -pq makes one, with age v1.3 or newer; its public key starts age1pq1), "+
		"or accept the weaker protection with: vaultkey recipients add --classic RECIPIENT", vaultID, vault.Fingerprint(arg))
}

var recipientsRemoveCommand = &command{
	name:     "remove",
	aliases:  []string{"rm"},
	synopsis: "recipients remove RECIPIENT",
	summary:  "remove a key slot and rotate the data key",
	help: `Removes a key slot and rotates the data key, re-sealing every record, so
that the removed key cannot read anything written from now on. (It can still
read copies of the vault taken before.) RECIPIENT is the whole recipient or
its fingerprint as "recipients list" shows it.

The key this command opens the vault with cannot be removed (that would lock
it out): use "vaultkey rotate" to replace it. The last slot cannot be
removed either.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return onOpenVault("recipient", func(e *env, u *unlocked, arg string) error {
			target, err := findRecipient(u.Recipients(), strings.TrimSpace(arg))
			if err != nil {
				return fmt.Errorf("%w of vault %s (see: vaultkey recipients list)", err, u.ID())
			}
			fp := vault.Fingerprint(target)
			if own, err := nativeRecipients(u.Identities); err == nil && slices.Contains(own, target) {
				return fmt.Errorf("%s is the public key of the key from %s, which this command opened the vault with: removing it would lock that key out; replace it with: vaultkey rotate", fp, e.keys.Describe(u.Source))
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
				fp, len(entries), u.ID(), len(u.Recipients()))
			return nil
		})
	},
}

// findRecipient returns the recipient of recipients that arg names, whole
// or by its fingerprint.
func findRecipient(recipients []string, arg string) (string, error) {
	if slices.Contains(recipients, arg) {
		return arg, nil
	}
	var found []string
	for _, r := range recipients {
		if vault.Fingerprint(r) == arg {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("%s is not a recipient", vault.Fingerprint(arg))
	}
	return "", fmt.Errorf("%s is the fingerprint of %d recipients: give the whole recipient (recipients list --full)", arg, len(found))
}
