package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

var uiCommand = &command{
	name:     "ui",
	synopsis: "ui",
	summary:  "watch and manage the accounts in a terminal view",
	help: `Shows every provider and namespace with its accounts in pool order (state
with a live cooldown countdown, last use, successes, 429s, refreshes) and
the rotation events of every process using the vault as they happen,
read from the shared state every second. Keys (? shows them):

  ↑ ↓ k j   move                 K J   move the account up or down
  enter     details and events   x     remove it (type its label)
  d         disable or enable    a     add an API-key account
  r         reset cooldowns      l     log in to the selected provider
  /         filter               q     quit

Every action makes the same vault and pool calls as the accounts
commands, under the vault lock; an error shows on the status line.
Credentials are never drawn: an API key typed in is masked. NO_COLOR
turns colors off. Made for terminals of 80x24 and larger, over SSH too.
Without a terminal it exits with status 2: scripts use accounts list
--json and accounts events --follow.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			return runUI(e)
		}
	},
}

// isTerminal reports whether f is an *os.File open on a terminal.
func isTerminal(f any) bool {
	_, ok := terminalFD(f)
	return ok
}

func runUI(e *env) error {
	if !isTerminal(e.stdin) || !isTerminal(e.stdout) {
		return &exitError{code: 2, err: errors.New("ui needs a terminal; for scripts use: vaultkey accounts list --json, and vaultkey accounts events --follow")}
	}
	dir, err := e.vaultDir()
	if err != nil {
		return err
	}
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	src := newUISource(u.Vault)
	color := e.getenv("NO_COLOR") == ""
	m := newUIModel(e.ctx, src, displayName(dir), time.Now, newUIStyles(color))
	m.login = e.uiLogin
	opts := []tea.ProgramOption{tea.WithContext(e.ctx), tea.WithInput(e.stdin), tea.WithOutput(e.stdout)}
	if !color {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err = tea.NewProgram(m, opts...).Run()
	cerr := src.close()
	if errors.Is(err, tea.ErrProgramKilled) && e.ctx.Err() != nil {
		err = nil // Ctrl-C from outside: a normal end
	}
	if err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("writing the pool state: %w", cerr)
	}
	return nil
}

// uiLogin runs vaultkey login for the ui, into the pool key (a Copilot
// namespace is its GitHub host): the same flow as the command,
// its messages (the URL to open, the device code) sent to out line by
// line, the browser not started (the ui may run over SSH).
func (e *env) uiLogin(ctx context.Context, key pool.Key, client, label string, out func(string)) (string, error) {
	provider := key.Provider
	o := &loginOptions{namespace: key.Namespace, port: -1, noBrowser: true, label: label, set: map[string]bool{"no-browser": true}}
	if key.Namespace != records.DefaultNamespace {
		if provider == copilot.Provider {
			o.namespace, o.enterprise, o.set["enterprise"] = records.DefaultNamespace, key.Namespace, true
		} else {
			o.set["namespace"] = true
		}
	}
	if _, ok := lookupPreset(provider, client); ok {
		o.client, o.set["client"] = client, true
	} else {
		o.clientID, o.set["client-id"] = client, true
	}
	if label != "" {
		o.set["label"] = true
	}
	w := &lineWriter{out: out}
	var stdout strings.Builder
	le := *e
	le.ctx, le.stdin, le.stdout, le.stderr = ctx, strings.NewReader(""), &stdout, w
	err := runLogin(&le, provider, o)
	w.flush()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(stdout.String()), nil
}

// lineWriter calls out with each complete line written to it.
type lineWriter struct {
	out  func(string)
	part []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.part = append(w.part, p...)
	for {
		i := strings.IndexByte(string(w.part), '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimRight(string(w.part[:i]), "\r"); line != "" {
			w.out(line)
		}
		w.part = w.part[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	if len(w.part) > 0 {
		w.out(string(w.part))
		w.part = nil
	}
}

var _ io.Writer = (*lineWriter)(nil)
