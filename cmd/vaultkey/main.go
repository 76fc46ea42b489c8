// Command vaultkey manages authvault vaults: their keys (init, rotate,
// recipients), backups (export, import), health (status) and accounts.
// Run "vaultkey help" for the list of commands and "vaultkey help CMD" for
// one command's manual.
//
// # Adding a command
//
// Each command lives in its own file, NAME.go, which declares
//
//	var nameCommand = &command{
//		name:     "name",
//		synopsis: "name [--flag X] ARG",             // shown in usage lines
//		summary:  "what it does, in a few words",     // shown by "vaultkey help"
//		help:     `The manual: what it does, every flag, examples.`,
//		setup: func(fs *flag.FlagSet) runFunc {
//			x := fs.String("flag", "", "")            // define the flags…
//			return func(e *env, args []string) error { // …and run with them
//				…
//			}
//		},
//	}
//
// and adds one line, "nameCommand,", to the commands table below. A
// command with subcommands (like accounts) sets subs instead of setup.
// setup must only define flags: it is also called to learn which flags a
// group's subcommands take. The synopsis starts with the command's full
// name, and the help names every flag (TestHelpMentionsEveryFlag checks
// both). Tests go in NAME_test.go and drive the built binary through the
// sandbox of main_test.go.
//
// What every command gets for free: --dir and -h/--help; flags accepted
// before and after positional arguments ("--" ends them); an error
// wrapping cli.ErrUsage returned from run exits 2 with the synopsis, any
// other error exits 1 as one line "vaultkey: …" on stderr. The env gives the context (cancelled
// on Ctrl-C), standard streams, the environment, the vault directory
// (e.vaultDir) and the key chain (e.keys, e.openVault).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/internal/cli"
)

// commands is the command table, in the order "vaultkey help" lists them.
var commands = []*command{
	initCommand,
	statusCommand,
	repairCommand,
	exportCommand,
	importCommand,
	rotateCommand,
	recipientsCommand,
	accountsCommand,
	uiCommand,
	loginCommand,
	migrateCommand,
	modelsCommand,
	serveCommand,
	clientsCommand,
	copyCommand,
	versionCommand,
	helpCommand,
}

// runFunc runs a command with its positional arguments, after its flags
// were parsed.
type runFunc func(e *env, args []string) error

// command is one vaultkey command, or a group of subcommands.
type command struct {
	name     string
	synopsis string // usage after "vaultkey ", e.g. "accounts rm ID"
	summary  string
	help     string // the manual, printed by "vaultkey help NAME" and "NAME -h"
	// setup defines the command's flags on fs and returns the function
	// that runs the command once they are parsed. Unset for a group.
	setup func(fs *flag.FlagSet) runFunc
	// subs are a group's subcommands, named by the first argument.
	subs []*command
	// aliases are other names of a subcommand ("remove" for "rm"): the
	// same verb is spelled either way in every group.
	aliases []string
}

func (c *command) sub(name string) *command {
	for _, s := range c.subs {
		if s.name == name || slices.Contains(s.aliases, name) {
			return s
		}
	}
	return nil
}

func lookup(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

// env is what a command runs with.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	dir    string // --dir; "" means AUTHVAULT_DIR or the default
	keys   *vaultKeys
	// commands is the command table (a field, not a reference to the
	// package variable, which would make the help command's own
	// initialization refer to itself).
	commands []*command
}

// vaultDir returns the vault directory: --dir, else $AUTHVAULT_DIR, else
// the default under the user data directory.
func (e *env) vaultDir() (string, error) {
	if e.dir != "" {
		return e.dir, nil
	}
	if d := e.getenv("AUTHVAULT_DIR"); d != "" {
		return d, nil
	}
	return authvault.DefaultDir()
}

// openVault opens the vault with the key chain.
func (e *env) openVault() (*unlocked, error) {
	dir, err := e.vaultDir()
	if err != nil {
		return nil, err
	}
	return e.keys.OpenVault(e.ctx, dir)
}

// onOpenVault is the run function of a command that takes exactly one
// argument (a what) and acts on the open vault.
func onOpenVault(what string, run func(e *env, u *unlocked, arg string) error) runFunc {
	return func(e *env, args []string) error {
		if len(args) != 1 {
			return cli.Usagef("name exactly one %s", what)
		}
		u, err := e.openVault()
		if err != nil {
			return err
		}
		defer u.Close()
		return run(e, u, args[0])
	}
}

// notef writes a note for the user on stderr.
func (e *env) notef(format string, args ...any) {
	fmt.Fprintf(e.stderr, "vaultkey: "+format+"\n", args...)
}

// exitError ends vaultkey with a code, after printing its message (if
// any) like any error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run runs vaultkey with args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv,
		keys: &vaultKeys{Getenv: getenv}, commands: commands}

	global := flag.NewFlagSet("vaultkey", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.StringVar(&e.dir, "dir", "", "")
	showVersion := global.Bool("version", false, "")
	global.BoolVar(showVersion, "v", false, "")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(stdout, commands)
			return 0
		}
		fmt.Fprintf(stderr, "vaultkey: %v (run 'vaultkey help' for usage)\n", err)
		return 2
	}
	rest := global.Args()
	if *showVersion {
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "vaultkey: --version takes no command (run 'vaultkey help' for usage)\n")
			return 2
		}
		if err := printVersion(stdout); err != nil {
			return report(stderr, versionCommand, "version", err)
		}
		return 0
	}
	if len(rest) == 0 {
		writeUsage(stderr, commands)
		return 2
	}
	c := lookup(commands, rest[0])
	if c == nil {
		fmt.Fprintf(stderr, "vaultkey: unknown command %q (run 'vaultkey help' for the list)\n", rest[0])
		return 2
	}
	c, path, err := execute(e, c, c.name, rest[1:])
	return report(stderr, c, path, err)
}

// execute runs c, whose full name is path (e.g. "accounts list"), or for
// a group the subcommand args name, and returns the command that ran and
// its path, for error messages.
func execute(e *env, c *command, path string, args []string) (*command, string, error) {
	if len(c.subs) > 0 {
		sub, rest, err := pickSub(c, args)
		if err != nil || sub == nil {
			return c, path, err
		}
		if sub == c {
			writeHelp(e.stdout, c, path)
			return c, path, nil
		}
		return execute(e, sub, path+" "+sub.name, rest)
	}
	fs := newFlagSet(path, &e.dir)
	runFn := c.setup(fs)
	pos, err := cli.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		writeHelp(e.stdout, c, path)
		return c, path, nil
	}
	if err != nil {
		return c, path, err
	}
	return c, path, runFn(e, pos)
}

// newFlagSet returns the flag set of the command path, with the flags
// every command has.
func newFlagSet(path string, dir *string) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(dir, "dir", *dir, "")
	return fs
}

// appendTo returns a flag.FlagSet.Func handler collecting every occurrence
// of a repeatable flag, such as -r RECIPIENT, into *s.
func appendTo(s *[]string) func(string) error {
	return func(v string) error {
		*s = append(*s, v)
		return nil
	}
}

// pickSub finds the subcommand of group g that args name. Flags may come
// before the subcommand's name ("accounts --json list"): they are passed
// on to it. It returns g itself when help on the group was asked for.
func pickSub(g *command, args []string) (*command, []string, error) {
	// Which flags take a value, in any subcommand, to step over values.
	var scratch string
	valued := func(name string) bool {
		for _, s := range g.subs {
			if len(s.subs) > 0 {
				continue
			}
			fs := newFlagSet(s.name, &scratch)
			s.setup(fs)
			if cli.TakesValue(fs, name) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "-help" || a == "--help" {
			return g, nil, nil
		}
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			sub := g.sub(a)
			if sub == nil {
				return nil, nil, cli.Usagef("unknown subcommand %q (want %s)", a, subNames(g))
			}
			rest := append(append([]string(nil), args[:i]...), args[i+1:]...)
			return sub, rest, nil
		}
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && valued(name) {
			i++
		}
	}
	return nil, nil, cli.Usagef("name a subcommand: %s", subNames(g))
}

func subNames(g *command) string {
	names := make([]string, len(g.subs))
	for i, s := range g.subs {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// report prints err, from the command c named path, for the user and
// returns the exit code.
func report(stderr io.Writer, c *command, path string, err error) int {
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	msg := err.Error()
	switch {
	case errors.Is(err, cli.ErrUsage):
		code = 2
		msg = fmt.Sprintf("%s: %s (usage: vaultkey %s; see: vaultkey help %s)", path, msg, c.synopsis, path)
	case errors.As(err, &ee):
		code = ee.code
	case errors.Is(err, context.Canceled):
		msg = "interrupted"
	}
	fmt.Fprintln(stderr, "vaultkey: "+safeLine(msg))
	return code
}

// keyPattern matches the start of an age identity's encoding.
var keyPattern = regexp.MustCompile(`(?i)AGE-(?:SECRET-KEY-(?:PQ-)?|PLUGIN-[a-z0-9+._-]+-)1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{8}`)

// safeLine makes msg one line and withholds it if it could hold a key. No
// error of vaultkey's packages holds one; this is the last guard.
func safeLine(msg string) string {
	if keyPattern.MatchString(msg) {
		return "failed (details withheld: they may contain key material)"
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " ")
}
