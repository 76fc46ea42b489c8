package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/backup"
	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/vault"
)

var exportCommand = &command{
	name:     "export",
	synopsis: "export [-o FILE] (-r RECIPIENT... | -R FILE... | --passphrase) [--key-only | --no-key]",
	summary:  "write an encrypted backup of the vault and its key",
	help: `Writes a backup of the vault: an armored age file whose plaintext is a JSON
bundle {"format":"authvault-backup/1", "vault_id", "exported", "identity",
"records"}, holding the vault key and every record. "vaultkey import"
restores it; the stock age command decrypts it too (age -d).

Who can read the backup (one of):
  -r, --recipient RECIPIENT        an age public key: age1… (X25519), age1pq1…
                                   (post-quantum) or a plugin recipient such as
                                   age1yubikey1…; repeatable
  -R, --recipients-file FILE       a file of recipients, one per line ("#"
                                   comments allowed); repeatable
  -p, --passphrase                 a passphrase, from $AUTHVAULT_PASSPHRASE or
                                   asked twice on the terminal (never an
                                   argument)

What goes in:
  --key-only     only the vault key (a key backup)
  --no-key       only the records: whoever restores them needs a key of their own

Where it goes:
  -o, --output FILE   written atomically with mode 0600; without -o the backup
                      goes to standard output, which must not be a terminal

Keep in mind: a backup that holds the key opens the vault for whoever can
decrypt it, and its records are readable by them; encrypt it to a key kept
somewhere else than the vault key (a YubiKey, an offline key, a passphrase).

Compatibility: age1pq1… (post-quantum) recipients need age v1.3 or newer to
decrypt; older releases, such as the age 1.1.1 that Debian 12 ships, can
decrypt backups encrypted to X25519 recipients (age1…) and passphrases.

Examples:
  vaultkey export -r age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p -o vault-backup.age
  age -d -i offline-key.txt vault-backup.age | jq .records
  AUTHVAULT_PASSPHRASE=… vaultkey export --passphrase --no-key > records.age`,
	setup: func(fs *flag.FlagSet) runFunc {
		var o exportOptions
		fs.StringVar(&o.output, "o", "", "")
		fs.StringVar(&o.output, "output", "", "")
		fs.Func("r", "", appendTo(&o.recipients))
		fs.Func("recipient", "", appendTo(&o.recipients))
		fs.Func("R", "", appendTo(&o.recipientFiles))
		fs.Func("recipients-file", "", appendTo(&o.recipientFiles))
		fs.BoolVar(&o.passphrase, "p", false, "")
		fs.BoolVar(&o.passphrase, "passphrase", false, "")
		fs.BoolVar(&o.keyOnly, "key-only", false, "")
		fs.BoolVar(&o.noKey, "no-key", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q (the output file goes after -o)", args[0])
			}
			return runExport(e, &o)
		}
	},
}

type exportOptions struct {
	output         string
	recipients     []string
	recipientFiles []string
	passphrase     bool
	keyOnly        bool
	noKey          bool
}

func runExport(e *env, o *exportOptions) error {
	switch {
	case o.keyOnly && o.noKey:
		return cli.Usagef("--key-only and --no-key exclude each other")
	case o.passphrase && (len(o.recipients) > 0 || len(o.recipientFiles) > 0):
		return cli.Usagef("--passphrase cannot be combined with -r or -R (age allows a passphrase only alone)")
	case !o.passphrase && len(o.recipients) == 0 && len(o.recipientFiles) == 0:
		return cli.Usagef("say who can read the backup: -r RECIPIENT, -R FILE or --passphrase")
	}
	toStdout := o.output == "" || o.output == "-"
	if toStdout && isTerminal(e.stdout) {
		return errors.New("refusing to write a backup to the terminal: name a file with -o FILE, or redirect standard output")
	}
	recipients, err := exportRecipients(e, o)
	if err != nil {
		return err
	}

	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	b := &backup.Bundle{VaultID: u.ID(), Exported: time.Now().UTC(), HasRecords: !o.keyOnly}
	if !o.noKey {
		if b.Identity, err = encodeIdentities(u.Identities); err != nil {
			return fmt.Errorf("cannot put the vault key in the backup (%v): export with --no-key", err)
		}
	}
	if b.HasRecords {
		// Read under the vault lock, so that the backup is one consistent
		// state even while other processes write; nothing is committed.
		err := u.Batch(e.ctx, func(bt *vault.Batch) error {
			for _, en := range bt.List(vault.Filter{}) {
				r, err := bt.Get(en.ID)
				if err != nil {
					return err
				}
				b.Records = append(b.Records, r)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading the records: %w", err)
		}
	}
	plain, err := backup.Marshal(b)
	if err != nil {
		return err
	}
	defer clear(plain)

	write := func(w io.Writer) error { return backup.Encrypt(w, plain, recipients) }
	dest := "standard output"
	if !toStdout {
		dest = o.output
		err = writeFileAtomic(o.output, write)
	} else {
		err = write(e.stdout)
	}
	if err != nil {
		return fmt.Errorf("writing the backup to %s: %w", dest, explainRecipients(err))
	}
	what := fmt.Sprintf("%d record(s) and the vault key", len(b.Records))
	switch {
	case o.keyOnly:
		what = "the vault key"
	case o.noKey:
		what = fmt.Sprintf("%d record(s), without the key", len(b.Records))
	}
	e.notef("exported %s of vault %s to %s", what, b.VaultID, dest)
	return nil
}

// exportRecipients parses -r, -R and --passphrase into age recipients.
func exportRecipients(e *env, o *exportOptions) ([]age.Recipient, error) {
	if o.passphrase {
		pass, err := newPassphrase(e.getenv, e.stdin, e.stderr, "Passphrase for the backup: ")
		if err != nil {
			return nil, err
		}
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			return nil, err
		}
		return []age.Recipient{r}, nil
	}
	var out []age.Recipient
	pq := false
	add := func(s, where string) error {
		r, err := vault.ParseRecipient(s)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		pq = pq || strings.HasPrefix(strings.TrimSpace(s), "age1pq1")
		out = append(out, r)
		return nil
	}
	for _, s := range o.recipients {
		if err := add(s, "-r"); err != nil {
			return nil, cli.Usagef("%v", err)
		}
	}
	for _, path := range o.recipientFiles {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("-R %s: %w", path, err)
		}
		sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		n, found := 0, 0
		for sc.Scan() {
			n++
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if strings.HasPrefix(strings.ToUpper(line), "AGE-") {
				f.Close()
				return nil, fmt.Errorf("-R %s line %d: this is an identity (a secret key), not a recipient: never hand a secret key to -R", path, n)
			}
			if err := add(line, fmt.Sprintf("-R %s line %d", path, n)); err != nil {
				f.Close()
				return nil, err
			}
			found++
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("-R %s: %w", path, err)
		}
		if found == 0 {
			return nil, fmt.Errorf("-R %s: no recipients in the file", path)
		}
	}
	if pq {
		e.notef("note: age1pq1… recipients need age v1.3 or newer to decrypt (not age 1.1.1)")
	}
	return out, nil
}
