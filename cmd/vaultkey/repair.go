package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/vault"
)

var repairCommand = &command{
	name:     "repair",
	synopsis: "repair [--dry-run] [--json]",
	summary:  "rebuild a rolled-back manifest from the newest record files",
	help: `Rebuilds the vault's manifest (its index of records) from the newest
authentic version of each record in the vault directory. Run it when
"vaultkey status" reports a rollback: an older manifest was put back (a
restored file, a sync tool), the newer record files are still there, and
the vault refuses every write until the manifest names them again.

Every record file is read and authenticated with the vault key; files
that do not authenticate are ignored. Look at the changes first with
--dry-run: a record deleted after the old manifest was copied may come
back if a file of it was left behind, and a record whose files are all
gone is dropped.

  --dry-run   list the changes without writing anything
  --json      print the changes as a JSON array

Each change is printed as "ID: generation FROM -> TO" (FROM 0: not in the
manifest; TO 0: dropped).`,
	setup: func(fs *flag.FlagSet) runFunc {
		dryRun := fs.Bool("dry-run", false, "")
		asJSON := fs.Bool("json", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			return runRepair(e, *dryRun, *asJSON)
		}
	},
}

type repairJSON struct {
	ID   string `json:"id"`
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

func runRepair(e *env, dryRun, asJSON bool) error {
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	changes, err := u.Repair(e.ctx, dryRun)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]repairJSON, 0, len(changes))
		for _, c := range changes {
			out = append(out, repairJSON{ID: c.ID.String(), From: c.From, To: c.To})
		}
		return cli.WriteJSON(e.stdout, out)
	}
	writeRepair(e.stdout, changes, dryRun)
	return nil
}

func writeRepair(w io.Writer, changes []vault.RepairChange, dryRun bool) {
	if len(changes) == 0 {
		fmt.Fprintln(w, "the manifest already names the newest version of every record: nothing to repair")
		return
	}
	for _, c := range changes {
		fmt.Fprintf(w, "%s: generation %d -> %d\n", c.ID, c.From, c.To)
	}
	if dryRun {
		fmt.Fprintf(w, "%d change(s); nothing written (run without --dry-run to apply)\n", len(changes))
	} else {
		fmt.Fprintf(w, "%d change(s) written\n", len(changes))
	}
}
