package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/authvault/authvault/adapters"
	providerpkg "github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/usage"
	"github.com/authvault/authvault/vault"
)

var accountsCommand = &command{
	name:     "accounts",
	synopsis: "accounts list | add-key | set-key | rm | move | reset | disable | enable | events",
	summary:  "list and manage the accounts of each provider",
	help: `The vault holds any number of accounts per provider and namespace; each
provider+namespace is a pool, whose accounts serve requests in order
(the first healthy one by default) and cool down when rate limited.

An account is named by its ID, provider/namespace/label, or provider/label
in the "default" namespace: anthropic/default/me@example.com, openai/work.`,
	subs: []*command{
		accountsListCommand, accountsAddKeyCommand, accountsSetKeyCommand, accountsRmCommand, accountsMoveCommand,
		accountsResetCommand, accountsDisableCommand, accountsEnableCommand, accountsEventsCommand,
	},
}

var accountsListCommand = &command{
	name:     "list",
	synopsis: "accounts list [--provider P] [--json]",
	summary:  "show every account with its state and counters",
	help: `Lists every account, pool by pool in pool order: provider, namespace,
label, kind (oauth, api, wellknown), state, when it was last used, and its
successes and 429s (rate-limited and quota-exhausted answers). The state is
"ready", "cooling until HH:MM:SS (reason)", "needs re-auth" (log in again),
"disabled (reason)", or "unreadable (tampered)" / "(permissions)" /
"(missing)" for an account whose record cannot be read: requests skip it.

Exit status: 1 when an account's record cannot be read (each is named).

  --provider P   only that provider's accounts
  --json         print a JSON array with every detail (cooldowns per model,
                 all counters, what vaultkey serve counted and the last
                 rate-limit headers it saw); credentials are never shown

Below the table, the remaining quota of each account that vaultkey serve
has seen rate-limit headers for: "requests 49/50, tokens 39000/40000".`,
	setup: func(fs *flag.FlagSet) runFunc {
		provider := fs.String("provider", "", "")
		asJSON := fs.Bool("json", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			return runAccountsList(e, *provider, *asJSON)
		}
	},
}

func runAccountsList(e *env, provider string, asJSON bool) error {
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	entries, err := u.List(e.ctx, vault.Filter{Provider: provider})
	if err != nil {
		return err
	}
	entries = withoutClients(entries)
	kinds, keys := kindsAndPools(entries)
	// The pool's marks are what requests ran into; a read now says what
	// the record is like at present.
	unreadable := map[records.ID]string{}
	for _, en := range entries {
		if _, err := u.Get(e.ctx, en.ID); err != nil {
			if e.ctx.Err() != nil {
				return e.ctx.Err()
			}
			unreadable[en.ID] = pool.UnreadableClass(err)
		}
	}
	var accts []pool.Account
	for _, k := range keys {
		p, err := pool.Open(e.ctx, u.Vault, k)
		if err != nil {
			return fmt.Errorf("pool %s: %w", k, err)
		}
		got, err := p.Accounts(e.ctx)
		if herr := p.Health(); herr != nil {
			e.notef("warning: %v", herr)
		}
		p.Close()
		if err != nil {
			return fmt.Errorf("pool %s: %w", k, err)
		}
		accts = append(accts, got...)
	}
	var bad []string
	for i := range accts {
		a := &accts[i]
		if class, ok := unreadable[a.ID]; ok {
			a.Availability, a.Unreadable = pool.Unreadable, class
			bad = append(bad, fmt.Sprintf("%s (%s)", a.ID, class))
		} else if a.Unreadable != "" {
			// Readable again: the mark goes with the next request.
			a.Unreadable = ""
			if a.Availability == pool.Unreadable {
				a.Availability = pool.Ready
			}
		}
	}
	now := time.Now()
	if asJSON {
		err = cli.WriteJSON(e.stdout, withUsage(e, u.Vault, jsonAccounts(accts, now, kinds)))
	} else if len(accts) == 0 {
		e.notef("no accounts%s yet: add an API key with: vaultkey accounts add-key PROVIDER --label NAME", forProvider(provider))
	} else {
		err = writeAccountsTable(e.stdout, accts, now, kinds)
		if err == nil {
			err = writeQuota(e, u.Vault, accts, now)
		}
	}
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d account(s) cannot be read and are skipped: %s (see: vaultkey status)", len(bad), strings.Join(bad, ", "))}
	}
	return nil
}

// accountWithUsage is one account of accounts list --json: the pool's
// view, and what gateways counted and last saw of its rate limits.
type accountWithUsage struct {
	jsonAccount
	Usage *usage.Account `json:"usage,omitempty"`
	// Remaining summarizes Usage.RateLimit ("requests 49/50, …").
	Remaining string `json:"remaining,omitempty"`
}

func withUsage(e *env, v *vault.Vault, accts []jsonAccount) []accountWithUsage {
	u, err := usage.Read(e.ctx, v)
	if err != nil {
		e.notef("warning: usage unreadable: %v", err)
		u = &usage.Usage{}
	}
	out := make([]accountWithUsage, len(accts))
	for i, a := range accts {
		out[i] = accountWithUsage{jsonAccount: a, Usage: u.Accounts[a.ID]}
		if out[i].Usage != nil {
			out[i].Remaining = out[i].Usage.RateLimit.Remaining()
		}
	}
	return out
}

// writeQuota lists the remaining quota of each account, from the last
// rate-limit headers the gateway (vaultkey serve) saw for it.
func writeQuota(e *env, v *vault.Vault, accts []pool.Account, now time.Time) error {
	u, err := usage.Read(e.ctx, v)
	if err != nil {
		e.notef("warning: usage unreadable: %v", err)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	header := false
	for _, a := range accts {
		ua := u.Accounts[a.ID.String()]
		if ua == nil || ua.RateLimit.Remaining() == "" {
			continue
		}
		if !header {
			fmt.Fprintln(tw, "\nREMAINING (last rate-limit headers seen by vaultkey serve)\t\t")
			header = true
		}
		fmt.Fprintf(tw, "%s\t%s\tseen %s\n", a.ID, ua.RateLimit.Remaining(), lastUsed(ua.RateLimit.Seen, now))
	}
	return tw.Flush()
}

func forProvider(p string) string {
	if p == "" {
		return ""
	}
	return " for " + p
}

var accountsAddKeyCommand = &command{
	name:     "add-key",
	synopsis: "accounts add-key PROVIDER --label L [--namespace N] [--base-url URL]",
	summary:  "add an account with an API key",
	help: `Adds an account that authenticates with a static API key. The key is read
from standard input when it is not a terminal (echo "$KEY" | vaultkey …,
or < keyfile), else asked for on the terminal without echo. It is never
taken from the command line, where other users and shell history see it.

PROVIDER is one of the known providers (anthropic, copilot, cursor,
google, openai, qwen). Any other id is a custom OpenAI-compatible
provider, and needs --base-url. The new account goes last in its pool
(see: accounts move).

  --label L        the account's name, unique within provider and namespace
                   (required)
  --namespace N    the namespace (default "default"), e.g. "work" or an
                   enterprise host
  --base-url URL   the account's own API base URL (a proxy, a gateway, a
                   self-hosted or custom provider): requests addressed to
                   the provider's default base URL go there, and the key is
                   sent to that origin and the provider's own, never
                   anywhere else

Examples:
  printf %s "$OPENAI_API_KEY" | vaultkey accounts add-key openai --label work
  vaultkey accounts add-key together --label me --base-url https://api.together.xyz/v1 < key.txt`,
	setup: func(fs *flag.FlagSet) runFunc {
		label := fs.String("label", "", "")
		namespace := fs.String("namespace", records.DefaultNamespace, "")
		baseURL := fs.String("base-url", "", "")
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("name exactly one provider")
			}
			if *label == "" {
				return cli.Usagef("--label is required")
			}
			id := records.ID{Provider: args[0], Namespace: *namespace, Label: *label}
			if err := id.Validate(); err != nil {
				return cli.Usagef("%v", err)
			}
			meta, err := baseURLMeta(id.Provider, *baseURL)
			if err != nil {
				return err
			}
			return runAddKey(e, id, meta)
		}
	},
}

// baseURLMeta checks a provider id and an account's --base-url: a known
// provider takes one or none, any other id is a custom provider and needs
// one. It returns the record Meta that holds it.
func baseURLMeta(provider, baseURL string) (map[string]string, error) {
	_, known := adapters.Lookup(provider)
	if baseURL == "" {
		if !known {
			return nil, cli.Usagef("unknown provider %q: known providers are %s; a custom OpenAI-compatible provider needs --base-url",
				provider, strings.Join(adapters.Providers(), ", "))
		}
		return nil, nil
	}
	u, err := providerpkg.ParseBaseURL(baseURL, false)
	if err != nil {
		return nil, cli.Usagef("--base-url: %v", err)
	}
	return map[string]string{adapters.MetaBaseURL: u.String()}, nil
}

// readAPIKey reads an API key from standard input or the terminal and
// checks it is one token.
func readAPIKey(e *env, id records.ID) ([]byte, error) {
	key, err := readSecret(e.stdin, e.stderr, "API key for "+id.String()+": ")
	if err != nil {
		return nil, fmt.Errorf("reading the API key: %w", err)
	}
	if strings.IndexFunc(string(key), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		clear(key)
		return nil, errors.New("the API key holds white space or control characters: give only the key")
	}
	return key, nil
}

func runAddKey(e *env, id records.ID, meta map[string]string) error {
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	if _, err := u.Get(e.ctx, id); err == nil {
		return fmt.Errorf("account %s already exists: remove it first (vaultkey accounts rm %s)", id, id)
	} else if !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	key, err := readAPIKey(e, id)
	if err != nil {
		return err
	}
	defer clear(key)
	rec := &records.Record{
		Provider: id.Provider, Namespace: id.Namespace, Label: id.Label,
		Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(key)}, Meta: meta,
	}
	err = u.Batch(e.ctx, func(b *vault.Batch) error {
		if _, err := b.Get(id); err == nil {
			return fmt.Errorf("account %s already exists: remove it first (vaultkey accounts rm %s)", id, id)
		} else if !errors.Is(err, vault.ErrNotFound) {
			return err
		}
		return b.Put(rec)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %s (api key)\n", id)
	return nil
}

var accountsSetKeyCommand = &command{
	name:     "set-key",
	synopsis: "accounts set-key ID",
	summary:  "replace an account's API key in place",
	help: `Replaces the API key of the account ID (a rotated or leaked key) without
removing the account: its position, settings, base URL and counters stay.
The key is read from standard input when it is not a terminal, else asked
for on the terminal without echo; never from the command line. A
needs-re-auth mark is cleared: the new key is tried on the next request.

Example:
  printf %s "$NEW_KEY" | vaultkey accounts set-key openai/default/work`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			return runSetKey(e, id)
		}
	},
}

func runSetKey(e *env, id records.ID) error {
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	rec, err := u.Get(e.ctx, id)
	if errors.Is(err, vault.ErrNotFound) {
		return noAccount(id)
	}
	if err != nil {
		return err
	}
	if rec.Kind != records.KindAPI {
		return fmt.Errorf("account %s holds an %s credential, not an API key: log in again instead (vaultkey login)", id, rec.Kind)
	}
	key, err := readAPIKey(e, id)
	if err != nil {
		return err
	}
	defer clear(key)
	_, err = u.Update(e.ctx, id, func(r *records.Record) error {
		if r.Kind != records.KindAPI || r.API == nil {
			return fmt.Errorf("account %s no longer holds an API key", id)
		}
		r.API.Key = records.Secret(key)
		return nil
	})
	if err != nil {
		return err
	}
	p, err := pool.Open(e.ctx, u.Vault, pool.KeyOf(id))
	if err != nil {
		return err
	}
	defer p.Close()
	if a, err := p.Account(e.ctx, id); err == nil && a.NeedsReauth {
		if err := p.ClearNeedsReauth(e.ctx, id); err != nil {
			return err
		}
	}
	if err := p.Close(); err != nil {
		return fmt.Errorf("writing the pool state: %w", err)
	}
	fmt.Fprintf(e.stdout, "replaced the API key of %s\n", id)
	return nil
}

var accountsRmCommand = &command{
	name:     "rm",
	aliases:  []string{"remove"},
	synopsis: "accounts rm ID",
	summary:  "remove an account and its credential",
	help: `Removes the account ID and its credential from the vault. Its pool forgets
it at the next listing.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			u, err := e.openVault()
			if err != nil {
				return err
			}
			defer u.Close()
			if err := u.Delete(e.ctx, id); err != nil {
				if errors.Is(err, vault.ErrNotFound) {
					return noAccount(id)
				}
				return err
			}
			fmt.Fprintf(e.stdout, "removed %s\n", id)
			return nil
		}
	},
}

var accountsMoveCommand = &command{
	name:     "move",
	synopsis: "accounts move ID --to N",
	summary:  "put an account at position N of its pool",
	help: `Moves the account ID to position N (from 1, as "accounts list" numbers
them) in its pool's order, shifting the accounts in between. With the
default fill-first strategy, position 1 serves every request while it is
healthy. Every process using the vault follows the new order, which is
kept in the accounts' records: backups and copies keep it. A new account
goes last.

  --to N   the new position, 1 to the number of accounts in the pool
           (required)

Example:
  vaultkey accounts move anthropic/default/work --to 1`,
	setup: func(fs *flag.FlagSet) runFunc {
		const unset = -1 << 31
		to := fs.Int("to", unset, "")
		return func(e *env, args []string) error {
			id, err := oneID(args)
			if err != nil {
				return err
			}
			if *to == unset {
				return cli.Usagef("--to N is required, N from 1")
			}
			return poolChange(e, id, func(p *pool.Pool, a pool.Account) (string, error) {
				all, err := p.Accounts(e.ctx)
				if err != nil {
					return "", err
				}
				if *to < 1 || *to > len(all) {
					return "", cli.Usagef("--to %d is out of range: pool %s has %d account(s), positions 1..%d", *to, pool.KeyOf(id), len(all), len(all))
				}
				if err := p.Move(e.ctx, id, *to-1); err != nil {
					return "", err
				}
				return fmt.Sprintf("moved %s to position %d", id, *to), nil
			})
		}
	},
}

var accountsResetCommand = &command{
	name:     "reset",
	synopsis: "accounts reset ID",
	summary:  "end an account's cooldowns and clear its needs-re-auth flag",
	help: `Ends every cooldown of the account ID and resets its backoff, and clears
its needs-re-auth flag, so that it serves the next request. A disabled
account stays disabled (see: accounts enable).`,
	setup: func(fs *flag.FlagSet) runFunc {
		return accountChange("reset", func(e *env, p *pool.Pool, id records.ID, a pool.Account) error {
			if err := p.Reset(e.ctx, id); err != nil {
				return err
			}
			if a.NeedsReauth {
				return p.ClearNeedsReauth(e.ctx, id)
			}
			return nil
		})
	},
}

var accountsDisableCommand = &command{
	name:     "disable",
	synopsis: "accounts disable ID [--reason R]",
	summary:  "take an account out of service",
	help: `Takes the account ID out of service until "accounts enable"; its credential
stays in the vault.

  --reason R   shown in "accounts list" (default "disabled by the operator")`,
	setup: func(fs *flag.FlagSet) runFunc {
		reason := fs.String("reason", "", "")
		return accountChange("disabled", func(e *env, p *pool.Pool, id records.ID, _ pool.Account) error {
			return p.Disable(e.ctx, id, *reason)
		})
	},
}

var accountsEnableCommand = &command{
	name:     "enable",
	synopsis: "accounts enable ID",
	summary:  "put a disabled account back in service",
	help:     `Puts the disabled account ID back in service. Its cooldowns, if any, still run out.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return accountChange("enabled", func(e *env, p *pool.Pool, id records.ID, _ pool.Account) error {
			return p.Enable(e.ctx, id)
		})
	},
}

// accountChange is the run function of a command that applies change to
// the pool of its one account ID and then prints "done ID".
func accountChange(done string, change func(e *env, p *pool.Pool, id records.ID, a pool.Account) error) runFunc {
	return func(e *env, args []string) error {
		id, err := oneID(args)
		if err != nil {
			return err
		}
		return poolChange(e, id, func(p *pool.Pool, a pool.Account) (string, error) {
			if err := change(e, p, id, a); err != nil {
				return "", err
			}
			return fmt.Sprintf("%s %s", done, id), nil
		})
	}
}

// oneID parses the single ID argument of an account command.
func oneID(args []string) (records.ID, error) {
	if len(args) != 1 {
		return records.ID{}, cli.Usagef("name exactly one account ID (provider/namespace/label)")
	}
	id, err := records.ParseID(args[0])
	if err != nil {
		return records.ID{}, cli.Usagef("%v", err)
	}
	return id, nil
}

func noAccount(id records.ID) error {
	return fmt.Errorf("no account %s in the vault (see: vaultkey accounts list)", id)
}

// poolChange opens the pool of id's account and applies change to it; the
// message it returns is printed.
func poolChange(e *env, id records.ID, change func(p *pool.Pool, a pool.Account) (string, error)) error {
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	p, err := pool.Open(e.ctx, u.Vault, pool.KeyOf(id))
	if err != nil {
		return err
	}
	defer p.Close()
	a, err := p.Account(e.ctx, id)
	if errors.Is(err, pool.ErrUnknownAccount) {
		return noAccount(id)
	}
	if err != nil {
		return err
	}
	msg, err := change(p, a)
	if err != nil {
		return err
	}
	if err := p.Close(); err != nil {
		return fmt.Errorf("writing the pool state: %w", err)
	}
	fmt.Fprintln(e.stdout, msg)
	return nil
}

// kindsAndPools indexes a vault listing: each account's kind, and the
// pools the accounts fall in, in the listing's order.
func kindsAndPools(entries []vault.Entry) (map[records.ID]records.Kind, []pool.Key) {
	kinds := make(map[records.ID]records.Kind, len(entries))
	var keys []pool.Key
	for _, en := range entries {
		kinds[en.ID] = en.Kind
		if k := pool.KeyOf(en.ID); len(keys) == 0 || keys[len(keys)-1] != k {
			keys = append(keys, k) // List is sorted by provider, namespace
		}
	}
	return kinds, keys
}
