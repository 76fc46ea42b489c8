package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/authvault/authvault/keysource"
)

// maxSecret bounds a secret read from standard input. API keys and tokens
// are well under this; more is a mistake (a file piped by accident).
const maxSecret = 64 << 10

// errNoTerminal is wrapped by the errors of newPassphrase and
// getPassphrase when the passphrase is not in the environment and standard
// input is not a terminal to ask on.
var errNoTerminal = errors.New("standard input is not a terminal")

// terminalFD returns the file descriptor of f when f is an *os.File open
// on a terminal.
func terminalFD(f any) (int, bool) {
	file, ok := f.(*os.File)
	if !ok || file == nil {
		return 0, false
	}
	fd := int(file.Fd())
	return fd, term.IsTerminal(fd)
}

// readSecret reads one secret, such as an API key: from in when in is not
// a terminal (a pipe or a file: the whole input, at most maxSecret bytes,
// surrounding white space removed), otherwise from the terminal without
// echo after writing prompt to errOut. Secrets never come from argv,
// where other users and shell history could see them. The caller should
// clear the returned slice when done.
func readSecret(in io.Reader, errOut io.Writer, prompt string) ([]byte, error) {
	if fd, ok := terminalFD(in); ok {
		fmt.Fprint(errOut, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(errOut)
		if err != nil {
			return nil, fmt.Errorf("reading from the terminal: %w", err)
		}
		return trimmed(b)
	}
	buf := make([]byte, maxSecret+1)
	n, err := io.ReadFull(in, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		clear(buf)
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	if n > maxSecret {
		clear(buf)
		return nil, fmt.Errorf("standard input is longer than %d KiB: pipe only the secret", maxSecret>>10)
	}
	return trimmed(buf[:n])
}

// trimmed returns b without surrounding white space, in a new slice, and
// clears b.
func trimmed(b []byte) ([]byte, error) {
	defer clear(b)
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil, errors.New("empty input")
	}
	return append([]byte(nil), t...), nil
}

// getPassphrase returns the passphrase in AUTHVAULT_PASSPHRASE, or asks for it
// once on the terminal (in must be one) after writing prompt to errOut.
func getPassphrase(getenv func(string) string, in io.Reader, errOut io.Writer, prompt string) (string, error) {
	if p := getenv(keysource.EnvPassphrase); p != "" {
		return p, nil
	}
	fd, ok := terminalFD(in)
	if !ok {
		return "", fmt.Errorf("no passphrase: set %s, or run in a terminal to be asked: %w", keysource.EnvPassphrase, errNoTerminal)
	}
	return readPassphrase(fd, errOut, prompt)
}

// newPassphrase returns the passphrase in AUTHVAULT_PASSPHRASE, or asks for
// a new one twice on the terminal and checks that both match.
func newPassphrase(getenv func(string) string, in io.Reader, errOut io.Writer, prompt string) (string, error) {
	if p := getenv(keysource.EnvPassphrase); p != "" {
		return p, nil
	}
	fd, ok := terminalFD(in)
	if !ok {
		return "", fmt.Errorf("no passphrase: set %s, or run in a terminal to be asked: %w", keysource.EnvPassphrase, errNoTerminal)
	}
	p, err := readPassphrase(fd, errOut, prompt)
	if err != nil {
		return "", err
	}
	again, err := readPassphrase(fd, errOut, "Confirm passphrase: ")
	if err != nil {
		return "", err
	}
	if p != again {
		return "", errors.New("the passphrases do not match")
	}
	return p, nil
}

func readPassphrase(fd int, errOut io.Writer, prompt string) (string, error) {
	fmt.Fprint(errOut, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(errOut)
	defer clear(b)
	if err != nil {
		return "", fmt.Errorf("reading the passphrase: %w", err)
	}
	if len(b) == 0 {
		return "", errors.New("empty passphrase")
	}
	return string(b), nil
}
