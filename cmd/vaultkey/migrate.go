package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/migrate"
	"github.com/authvault/authvault/records"
)

var migrateCommand = &command{
	name:     "migrate",
	synopsis: "migrate [--from SOURCE [--path FILE]] [--dry-run] [--namespace N] [--label L] [--remove-source]",
	summary:  "import the credentials other tools keep on disk",
	help: `Imports the credentials that other tools already keep in files:

  opencode     OpenCode's auth.json ($XDG_DATA_HOME/opencode/auth.json, or
               the content of $OPENCODE_AUTH_CONTENT)
  claude-code  Claude Code's ~/.claude/.credentials.json
  codex        Codex's $CODEX_HOME/auth.json (default ~/.codex/auth.json)
  gemini-cli   Gemini CLI's ~/.gemini/oauth_creds.json
  qwen-code    Qwen Code's ~/.qwen/oauth_creds.json
  copilot      GitHub Copilot's apps.json and hosts.json
               ($XDG_CONFIG_HOME/github-copilot/)

Without --from, every default location is read and what was found there
is reported. vaultkey then prints, for every credential, whether it was
added as a new account, updated an account (a newer token), was left
unchanged (the vault already holds it, or a newer one) or was skipped,
and why. Entries that cannot be read are reported as problems, by file
and JSON path, and the rest is imported; values are never printed.

Running migrate again changes nothing: a credential is matched with the
account holding the same refresh token or key, else the same account id,
else the same ID. Everything is committed at once, or nothing is.

OAuth tokens are bound to the client they were issued to: a refresh must
present the same client id. Tokens from Claude Code, Codex, Gemini CLI
and Qwen Code (and OpenCode's, which signs in with the same clients)
were issued to those tools' public clients, and files rarely record
which: the imported record gets the matching preset's client id (see
"vaultkey help login") and Meta client_preset = the preset's name, and
vaultkey notes once per preset that refreshing with it is subject to its
owner's terms. A client id the file records is kept.

  --from SOURCE     read only that source (names above)
  --path FILE       with --from: read this file instead of the default
  --dry-run         print what would be done and change nothing
  --namespace N     put every imported account in namespace N
  --label L         name the imported account L (for one account at a
                    time: two accounts given one ID conflict)
  --remove-source   after the vault commit succeeded, delete the source
                    files whose credentials the vault now holds; a file
                    with a problem or a skipped entry, or that changed
                    since it was read, is kept (and named). Only files are
                    removed, never $OPENCODE_AUTH_CONTENT

Exit status: 1 when a source had problems (the rest was imported) or a
source file could not be removed; 0 otherwise, also when nothing was
found.

Examples:
  vaultkey migrate --dry-run
  vaultkey migrate --from codex --path /backup/auth.json --label work`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &migrateOptions{}
		fs.StringVar(&o.from, "from", "", "")
		fs.StringVar(&o.path, "path", "", "")
		fs.BoolVar(&o.dryRun, "dry-run", false, "")
		fs.StringVar(&o.namespace, "namespace", "", "")
		fs.StringVar(&o.label, "label", "", "")
		fs.BoolVar(&o.removeSource, "remove-source", false, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			return runMigrate(e, o)
		}
	},
}

type migrateOptions struct {
	from, path       string
	dryRun           bool
	namespace, label string
	removeSource     bool
}

// envMigrateCrash names a point at which vaultkey migrate exits with
// status 3, for tests of what a crash leaves: "before-commit" or
// "after-commit" (the vault holds the credentials, no source was removed).
const envMigrateCrash = "AUTHVAULT_TEST_MIGRATE_CRASH"

func sourceNames() string {
	var names []string
	for _, s := range migrate.Sources() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

func runMigrate(e *env, o *migrateOptions) error {
	var sources []migrate.Source
	switch {
	case o.from != "":
		src, ok := migrate.SourceByName(o.from)
		if !ok {
			return cli.Usagef("unknown source %q (want one of %s)", o.from, sourceNames())
		}
		sources = []migrate.Source{src}
	case o.path != "":
		return cli.Usagef("--path needs --from SOURCE: the file's format")
	default:
		sources = migrate.Sources()
	}
	if o.namespace != "" {
		if err := (records.ID{Provider: "x", Namespace: o.namespace, Label: "x"}).Validate(); err != nil {
			return cli.Usagef("--namespace: %v", err)
		}
	}
	if o.label != "" {
		if err := (records.ID{Provider: "x", Namespace: "x", Label: o.label}).Validate(); err != nil {
			return cli.Usagef("--label: %v", err)
		}
	}

	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()

	menv := migrate.OSEnv()
	menv.Getenv = e.getenv
	var found []migrate.Found
	var problems []migrate.Problem
	for _, src := range sources {
		var f []migrate.Found
		var p []migrate.Problem
		if o.path != "" {
			f, p = src.ReadFile(o.path)
		} else {
			f, p = migrate.Discover(menv, src)
		}
		reportFound(e, src, menv, o.path, f, p)
		found = append(found, f...)
		problems = append(problems, p...)
	}
	for _, p := range problems {
		e.notef("problem: %v", p)
	}
	for _, note := range assignClients(found) {
		e.notef("note: %s", note)
	}

	plan, err := migrate.NewPlan(e.ctx, u.Vault, found, migrate.Options{Namespace: o.namespace, Label: o.label})
	if errors.Is(err, records.ErrInvalidID) {
		return cli.Usagef("%v", err)
	}
	if err != nil {
		return err
	}
	keepVaultClients(plan)

	if !o.dryRun {
		crashAt := e.getenv(envMigrateCrash)
		if crashAt == "before-commit" {
			os.Exit(3)
		}
		if err := migrate.Apply(e.ctx, u.Vault, plan); err != nil {
			if errors.Is(err, migrate.ErrConflict) {
				return fmt.Errorf("%w: another program changed the vault meanwhile; nothing was written: run vaultkey migrate again", err)
			}
			return fmt.Errorf("%w (nothing was written; no source was removed)", err)
		}
		if crashAt == "after-commit" {
			os.Exit(3)
		}
		for _, c := range plan.Update {
			if c.Reason == migrate.ReasonNewer {
				if err := clearReauth(e.ctx, u.Vault, c.Record.ID()); err != nil {
					e.notef("warning: %s: clearing its needs-re-auth flag: %v", c.Record.ID(), err)
				}
			}
		}
	}
	writePlan(e, plan, o.dryRun)

	var failures []string
	if len(problems) > 0 {
		failures = append(failures, fmt.Sprintf("%d problem(s) in the sources (listed above)", len(problems)))
	}
	if o.removeSource {
		if o.dryRun {
			e.notef("dry run: --remove-source removes nothing")
		} else {
			removed, err := migrate.RemoveSources(plan)
			for _, p := range removed {
				fmt.Fprintf(e.stdout, "removed %s\n", p)
			}
			if err != nil {
				failures = append(failures, fmt.Sprintf("some sources were kept: %v", err))
			}
		}
	}
	if len(found) == 0 && len(problems) == 0 {
		e.notef("nothing to migrate: no credentials found (see: vaultkey help migrate)")
	}
	if o.dryRun {
		e.notef("dry run: nothing was changed")
	}
	if len(failures) > 0 {
		what := "everything else was migrated"
		if o.dryRun {
			what = "everything else can be migrated"
		}
		return &exitError{code: 1, err: fmt.Errorf("%s; %s", strings.Join(failures, "; "), what)}
	}
	return nil
}

// reportFound says what a source held: the files read and how many
// credentials each gave, or where nothing was.
func reportFound(e *env, src migrate.Source, menv migrate.Env, path string, found []migrate.Found, problems []migrate.Problem) {
	count := map[string]int{}
	var order []string
	for _, f := range found {
		if _, ok := count[f.Path]; !ok {
			order = append(order, f.Path)
		}
		count[f.Path]++
	}
	for _, p := range problems {
		if _, ok := count[p.Path]; !ok {
			order = append(order, p.Path)
			count[p.Path] = 0
		}
	}
	if len(order) == 0 {
		looked := src.Paths(menv)
		if path != "" {
			looked = []string{path}
		}
		if len(looked) == 0 {
			fmt.Fprintf(e.stdout, "%s: nothing found (no home directory to look in)\n", src.Name)
			return
		}
		fmt.Fprintf(e.stdout, "%s: nothing found (looked at %s)\n", src.Name, strings.Join(looked, ", "))
		return
	}
	for _, p := range order {
		fmt.Fprintf(e.stdout, "%s: found %s in %s\n", src.Name, plural(count[p], "credential"), p)
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// assignClients gives imported OAuth tokens the client they were issued
// to: the preset of the tool whose file they come from, when the file
// does not name one. It returns one note per preset used.
func assignClients(found []migrate.Found) []string {
	type use struct {
		client  presetClient
		sources []string
	}
	var uses []*use
	for _, f := range found {
		r := f.Record
		if r == nil || r.Kind != records.KindOAuth || r.OAuth == nil {
			continue
		}
		var c presetClient
		var ok bool
		if r.OAuth.ClientID == "" {
			if c, ok = importPreset(f.Source, r.Provider); ok {
				r.OAuth.ClientID = c.ID
			}
		} else {
			c, ok = presetByID(r.Provider, r.OAuth.ClientID)
		}
		if !ok {
			continue
		}
		if r.Meta == nil {
			r.Meta = map[string]string{}
		}
		r.Meta[metaClientPreset] = c.Name
		i := slices.IndexFunc(uses, func(u *use) bool { return u.client.Provider == c.Provider && u.client.Name == c.Name })
		if i < 0 {
			uses = append(uses, &use{client: c})
			i = len(uses) - 1
		}
		if !slices.Contains(uses[i].sources, f.Source) {
			uses[i].sources = append(uses[i].sources, f.Source)
		}
	}
	var notes []string
	for _, u := range uses {
		c := u.client
		notes = append(notes, fmt.Sprintf("%s tokens from %s were issued to the public client of %s: they are refreshed with it (preset %s), which is subject to %s's terms",
			c.Provider, strings.Join(u.sources, " and "), c.Product, c.Name, c.Owner))
	}
	return notes
}

// keepVaultClients undoes assignClients where the vault already holds
// the same tokens with a client id of its own: a preset only fills in a
// client that no record names.
func keepVaultClients(plan *migrate.Plan) {
	for _, c := range plan.Update {
		r, b := c.Record, c.Base
		if b == nil || b.OAuth == nil || b.OAuth.ClientID == "" || r.OAuth == nil ||
			r.OAuth.Refresh != b.OAuth.Refresh || r.OAuth.ClientID == b.OAuth.ClientID {
			continue
		}
		r.OAuth.ClientID = b.OAuth.ClientID
		if v, ok := b.Meta[metaClientPreset]; ok {
			r.Meta[metaClientPreset] = v
		} else {
			delete(r.Meta, metaClientPreset)
		}
	}
}

// writePlan prints what the migration did, or would do.
func writePlan(e *env, plan *migrate.Plan, dryRun bool) {
	verb := func(done, would string) string {
		if dryRun {
			return would
		}
		return done
	}
	from := func(c migrate.Change) string { return c.Found.Source + " " + c.Found.Path }
	for _, c := range plan.Add {
		fmt.Fprintf(e.stdout, "%s %s (%s) from %s\n", verb("added", "would add"), c.Record.ID(), c.Record.Kind, from(c))
	}
	for _, c := range plan.Update {
		fmt.Fprintf(e.stdout, "%s %s from %s: %s\n", verb("updated", "would update"), c.Record.ID(), from(c), c.Reason)
	}
	for _, c := range plan.Unchanged {
		fmt.Fprintf(e.stdout, "unchanged %s from %s: %s\n", c.Record.ID(), from(c), c.Reason)
	}
	for _, c := range plan.Skipped {
		id := "an entry"
		if c.Record != nil {
			id = c.Record.ID().String()
		}
		fmt.Fprintf(e.stdout, "skipped %s from %s: %s\n", id, from(c), c.Reason)
	}
}
