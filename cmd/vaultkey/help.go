package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/authvault/authvault/internal/cli"
)

var helpCommand = &command{
	name:     "help",
	synopsis: "help [COMMAND [SUBCOMMAND]]",
	summary:  "show the list of commands, or one command's manual",
	help: `Without arguments, help lists the commands. With a command name (and,
for a group such as accounts, a subcommand name), it prints that
command's manual; "vaultkey COMMAND -h" does the same.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) == 0 {
				writeUsage(e.stdout, e.commands)
				return nil
			}
			c := lookup(e.commands, args[0])
			if c == nil {
				return cli.Usagef("unknown command %q", args[0])
			}
			path := c.name
			for _, name := range args[1:] {
				sub := c.sub(name)
				if sub == nil {
					return cli.Usagef("%s has no subcommand %q", path, name)
				}
				c, path = sub, path+" "+sub.name
			}
			writeHelp(e.stdout, c, path)
			return nil
		}
	},
}

// writeUsage writes the list of commands.
func writeUsage(w io.Writer, commands []*command) {
	fmt.Fprint(w, `vaultkey manages an authvault vault: its key, backups and accounts.

Usage: vaultkey [--dir DIR] COMMAND [ARGUMENTS]
       vaultkey --version | -v

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Every command takes --dir DIR, the vault directory (default: $AUTHVAULT_DIR,
else authvault under the user data directory, e.g. ~/.local/share/authvault).
Flags may come before or after arguments; "--" ends them.

The vault key is looked for in the environment (AUTHVAULT_KEY, or
AUTHVAULT_KEY_FILE, or AUTHVAULT_KEY_CMD), then in the OS keyring (service
"authvault", or $AUTHVAULT_KEYRING_SERVICE; account: the vault id), then in
the key file (~/.config/authvault/key.txt or the platform's equivalent).

Exit status: 0 on success, 1 on failure, 2 on a usage error.
Run "vaultkey help COMMAND" for a command's manual.
`)
}

// writeHelp writes the manual of c, whose full name is path.
func writeHelp(w io.Writer, c *command, path string) {
	fmt.Fprintf(w, "Usage: vaultkey %s\n", c.synopsis)
	if len(c.aliases) > 0 {
		parent, _, _ := strings.Cut(path, " ")
		fmt.Fprintf(w, "   or: vaultkey %s %s …\n", parent, strings.Join(c.aliases, " | "))
	}
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	if len(c.subs) > 0 {
		fmt.Fprint(w, "\nSubcommands:\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, s := range c.subs {
			summary := s.summary
			if len(s.aliases) > 0 {
				summary += " (also: " + strings.Join(s.aliases, ", ") + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", s.synopsis, summary)
		}
		tw.Flush()
		fmt.Fprintf(w, "\nRun \"vaultkey help %s SUBCOMMAND\" for one subcommand's manual.\n", path)
	}
	fmt.Fprint(w, "\nEvery command also takes --dir DIR (the vault directory) and -h (this help).\n")
}
