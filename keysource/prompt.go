package keysource

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

// terminalPrompt reads a passphrase from standard input without echo, when
// standard input is a terminal. The prompt goes to standard error, so that
// standard output stays the program's.
func terminalPrompt(prompt string) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, ErrNoPassphrase
	}
	fmt.Fprint(os.Stderr, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	return b, nil
}
