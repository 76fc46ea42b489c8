package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/internal/cli"
)

var accountsEventsCommand = &command{
	name:     "events",
	synopsis: "accounts events [--follow] [--json]",
	summary:  "show the rotation events of every process using the vault",
	help: `Shows the vault's event log: the last 500 rotations, cooldowns, token
refreshes, accounts taken out of service or found unreadable, and
exhausted pools of every program that uses the vault through authvault,
oldest first, one a line:

  2026-03-01 12:00:05  anthropic/default  work → home (429 rate_limit_error)

Programs write their events a moment after they happen, and the last ones
when they close. The log names accounts and says why in HTTP statuses and
provider error codes: it never holds a credential or a request.

  --follow   keep printing events as they are written, until Ctrl-C
  --json     print one JSON object a line (seq, time, kind, pool, account,
             from, status, reason, until, adopted)`,
	setup: func(fs *flag.FlagSet) runFunc {
		follow := fs.Bool("follow", false, "")
		asJSON := fs.Bool("json", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			return runEvents(e, *follow, *asJSON)
		}
	},
}

// followInterval is how often --follow looks for new events: one stat
// when there are none.
const followInterval = 250 * time.Millisecond

func runEvents(e *env, follow, asJSON bool) error {
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	f := eventlog.NewFollower(u.Vault)
	for {
		es, err := f.Next(e.ctx)
		if err != nil {
			if follow && errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("reading the event log: %w", err)
		}
		if err := writeEvents(e.stdout, es, asJSON); err != nil {
			return err
		}
		if !follow {
			return nil
		}
		select {
		case <-e.ctx.Done():
			return nil
		case <-time.After(followInterval):
		}
	}
}

// writeEvents writes es as text lines or as JSON lines.
func writeEvents(w io.Writer, es []eventlog.Entry, asJSON bool) error {
	for _, en := range es {
		var err error
		if asJSON {
			var b []byte
			if b, err = json.Marshal(en); err == nil {
				_, err = fmt.Fprintf(w, "%s\n", b)
			}
		} else {
			_, err = fmt.Fprintf(w, "%s  %s  %s\n", en.Time.Local().Format(time.DateTime), en.Pool, en.Summary())
		}
		if err != nil {
			return err
		}
	}
	return nil
}
