package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/authvault/authvault/gateway"
	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/usage"
	"github.com/authvault/authvault/vault"
)

// withoutClients drops the records that hold the gateway's clients from
// entries: they are not accounts.
func withoutClients(entries []vault.Entry) []vault.Entry {
	return slices.DeleteFunc(entries, func(e vault.Entry) bool { return e.ID.Provider == gateway.ClientProvider })
}

var clientsCommand = &command{
	name:     "clients",
	synopsis: "clients add | list | rm | reset",
	summary:  "manage the tokens local tools use with vaultkey serve",
	help: `Programs that use the gateway (vaultkey serve) authenticate with a token of
their own, never a provider credential. The vault keeps a digest of each
token in a sealed record beside the accounts (so backups carry it, and an
older copy of the vault's files does not bring a removed token back); the
token itself is shown once, by clients add.`,
	subs: []*command{clientsAddCommand, clientsListCommand, clientsRmCommand, clientsResetCommand},
}

var clientsAddCommand = &command{
	name:     "add",
	synopsis: "clients add NAME",
	summary:  "create a client token and print it once",
	help: `Creates a client called NAME (1 to 64 of A-Z a-z 0-9 . _ @ -) and prints
its token on standard output, once: it cannot be shown again. Give it to
the tool as its API key (ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY,
…). Running gateways accept it at once.

Example:
  export ANTHROPIC_API_KEY=$(vaultkey clients add laptop)`,
	setup: func(fs *flag.FlagSet) runFunc {
		return onOpenVault("client", func(e *env, u *unlocked, name string) error {
			tok, err := gateway.AddClient(e.ctx, u.Vault, name)
			if errors.Is(err, gateway.ErrClientName) {
				return cli.Usagef("%v", err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, tok)
			e.notef("added client %s; its token went to standard output and cannot be shown again", name)
			return nil
		})
	},
}

var clientsListCommand = &command{
	name:     "list",
	synopsis: "clients list [--json]",
	summary:  "list the clients with their requests and tokens used",
	help: `Lists the gateway's clients: name, when added, and what they did through
every gateway on this vault: requests, input and output tokens.

  --json   print a JSON array instead`,
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
			cs, err := gateway.Clients(e.ctx, u.Vault)
			if err != nil {
				return err
			}
			use, err := usage.Read(e.ctx, u.Vault)
			if err != nil {
				e.notef("warning: usage unreadable: %v", err)
				use = &usage.Usage{}
			}
			type clientJSON struct {
				Name  string       `json:"name"`
				Added string       `json:"added"`
				Usage usage.Counts `json:"usage"`
			}
			out := make([]clientJSON, 0, len(cs))
			for _, c := range cs {
				cj := clientJSON{Name: c.Name, Added: c.Added.Format("2006-01-02T15:04:05Z07:00")}
				if n := use.Clients[c.Name]; n != nil {
					cj.Usage = *n
				}
				out = append(out, cj)
			}
			if *asJSON {
				return cli.WriteJSON(e.stdout, out)
			}
			if len(out) == 0 {
				e.notef("no clients yet: add one with: vaultkey clients add NAME")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tADDED\tREQUESTS\tINPUT TOKENS\tOUTPUT TOKENS")
			for _, c := range out {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", c.Name, c.Added[:10], c.Usage.Requests, c.Usage.InputTokens, c.Usage.OutputTokens)
			}
			return tw.Flush()
		}
	},
}

var clientsRmCommand = &command{
	name:     "rm",
	synopsis: "clients rm NAME",
	summary:  "revoke a client's token",
	help:     `Removes the client NAME: its token is refused from the next request on, by every gateway on this vault.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return onOpenVault("client", func(e *env, u *unlocked, name string) error {
			if err := gateway.RemoveClient(e.ctx, u.Vault, name); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "removed client %s\n", name)
			return nil
		})
	},
}

var clientsResetCommand = &command{
	name:     "reset",
	synopsis: "clients reset",
	summary:  "remove every client, even when their list is damaged",
	help: `Removes every client: no token works any more, on any gateway of this
vault. It is the way out when the clients no longer read (a client's
record tampered with, or the client list of an earlier version damaged:
then serve admits no one, and add refuses to go on). Add the clients
again with clients add.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			u, err := e.openVault()
			if err != nil {
				return err
			}
			defer u.Close()
			if err := gateway.ResetClients(e.ctx, u.Vault); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "removed every client")
			return nil
		}
	},
}
