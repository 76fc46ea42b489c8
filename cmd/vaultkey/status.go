package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

var statusCommand = &command{
	name:     "status",
	synopsis: "status [--json]",
	summary:  "show the vault, its key and its integrity",
	help: `Opens the vault and shows its directory, id, format version and creation
time; which key source unlocked it; its recipients (the public keys of its
key slots, by fingerprint, post-quantum or classic, and a warning when they
mix the two: the data key is then only as strong as the classic ones); how
many records it holds, by provider and kind; and the result of a full
integrity check, which reads and authenticates every record.

Orphaned files (left by an interrupted write or key rotation) are counted
but are not a problem: writes remove them once they are a minute old.
When the check finds a rolled-back manifest (an older manifest put back
while newer record files remain), the vault refuses writes and status
says to run "vaultkey repair".

  --json   print the same as one JSON object, with the whole recipients
           and "recipients_mixed": true for a mix

Accounts whose record cannot be read are listed as "unreadable", with why
(tampered, permissions, missing): requests skip them.

Exit status: 1 when the integrity check finds a problem or an account
cannot be read (each is listed).`,
	setup: func(fs *flag.FlagSet) runFunc {
		asJSON := fs.Bool("json", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			return runStatus(e, *asJSON)
		}
	},
}

type statusJSON struct {
	Dir        string    `json:"dir"`
	VaultID    string    `json:"vault_id"`
	Format     int       `json:"format"`
	Created    time.Time `json:"created"`
	KeySource  string    `json:"key_source"`
	Recipients []string  `json:"recipients"`
	// Mixed says the recipients mix post-quantum and classic ones.
	Mixed     bool          `json:"recipients_mixed,omitempty"`
	Records   int           `json:"records"`
	Counts    []countJSON   `json:"counts"`
	Integrity integrityJSON `json:"integrity"`
	// Unreadable lists the accounts whose record cannot be read: requests
	// skip them.
	Unreadable []unreadableJSON `json:"unreadable,omitempty"`
}

type unreadableJSON struct {
	ID    string `json:"id"`
	Class string `json:"class"` // tampered, permissions, missing, rollback, error
}

type countJSON struct {
	Provider string       `json:"provider"`
	Kind     records.Kind `json:"kind"`
	Count    int          `json:"count"`
}

type integrityJSON struct {
	OK       bool     `json:"ok"`
	Checked  int      `json:"checked"`
	Orphans  int      `json:"orphans"`
	Problems []string `json:"problems,omitempty"`
	// Repair is set when the manifest was rolled back: vaultkey repair
	// rebuilds it.
	Repair bool `json:"repair,omitempty"`
}

func runStatus(e *env, asJSON bool) error {
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	entries, err := u.List(e.ctx, vault.Filter{})
	if err != nil {
		return err
	}
	st := statusJSON{
		Dir: u.Dir(), VaultID: u.ID(), Format: vault.FormatVersion, Created: u.Created(),
		KeySource: e.keys.Describe(u.Source), Recipients: u.Recipients(), Records: len(entries),
		Counts: countRecords(entries), Mixed: vault.Mixed(u.Recipients()),
	}
	for _, en := range entries {
		if _, err := u.Get(e.ctx, en.ID); err != nil {
			if e.ctx.Err() != nil {
				return e.ctx.Err()
			}
			st.Unreadable = append(st.Unreadable, unreadableJSON{ID: en.ID.String(), Class: pool.UnreadableClass(err)})
		}
	}
	rep, verr := u.Verify(e.ctx)
	if rep != nil {
		st.Integrity.Checked, st.Integrity.Orphans = rep.Records, rep.Orphans
	}
	var ve *vault.VerifyError
	switch {
	case verr == nil:
		st.Integrity.OK = true
	case errors.As(verr, &ve):
		for _, p := range ve.Problems {
			st.Integrity.Problems = append(st.Integrity.Problems, p.Error())
		}
	default:
		st.Integrity.Problems = []string{verr.Error()}
	}
	st.Integrity.Repair = errors.Is(verr, vault.ErrRollback)

	if asJSON {
		err = cli.WriteJSON(e.stdout, st)
	} else {
		err = writeStatus(e.stdout, &st)
	}
	if err != nil {
		return err
	}
	if !st.Integrity.OK {
		return &exitError{code: 1, err: fmt.Errorf("integrity check failed: %d problem(s) in %s (see above)", len(st.Integrity.Problems), st.Dir)}
	}
	if len(st.Unreadable) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d account(s) cannot be read (see above)", len(st.Unreadable))}
	}
	return nil
}

func countRecords(entries []vault.Entry) []countJSON {
	type key struct {
		provider string
		kind     records.Kind
	}
	n := map[key]int{}
	for _, en := range entries {
		n[key{en.ID.Provider, en.Kind}]++
	}
	out := make([]countJSON, 0, len(n))
	for k, c := range n {
		out = append(out, countJSON{Provider: k.provider, Kind: k.kind, Count: c})
	}
	slices.SortFunc(out, func(a, b countJSON) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	return out
}

func writeStatus(w io.Writer, st *statusJSON) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "vault\t%s\n", st.Dir)
	fmt.Fprintf(tw, "id\t%s\n", st.VaultID)
	fmt.Fprintf(tw, "format\t%d\n", st.Format)
	fmt.Fprintf(tw, "created\t%s\n", st.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(tw, "key\t%s\n", st.KeySource)
	for i, r := range st.Recipients {
		label := ""
		if i == 0 {
			label = "recipients"
		}
		fmt.Fprintf(tw, "%s\t%s (%s)\n", label, vault.Fingerprint(r), recipientKind(r))
	}
	if st.Mixed {
		fmt.Fprintf(tw, "\t  %s\n", mixedNote)
	}
	fmt.Fprintf(tw, "records\t%d\n", st.Records)
	for _, c := range st.Counts {
		fmt.Fprintf(tw, "\t  %s %s: %d\n", c.Provider, c.Kind, c.Count)
	}
	if st.Integrity.OK {
		fmt.Fprintf(tw, "integrity\tok (%d records checked, %d orphaned files)\n", st.Integrity.Checked, st.Integrity.Orphans)
	} else {
		fmt.Fprintf(tw, "integrity\tFAILED: %d problem(s) (%d records checked, %d orphaned files)\n",
			len(st.Integrity.Problems), st.Integrity.Checked, st.Integrity.Orphans)
		for _, p := range st.Integrity.Problems {
			fmt.Fprintf(tw, "\t  %s\n", p)
		}
		if st.Integrity.Repair {
			fmt.Fprintf(tw, "\t  the manifest was rolled back: see what \"vaultkey repair --dry-run\" would change, then run \"vaultkey repair\"\n")
		}
	}
	for i, a := range st.Unreadable {
		label := ""
		if i == 0 {
			label = "unreadable"
		}
		fmt.Fprintf(tw, "%s\t%s (%s): requests skip it\n", label, a.ID, a.Class)
	}
	return tw.Flush()
}
