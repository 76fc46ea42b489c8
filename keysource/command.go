package keysource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode"

	"filippo.io/age"
	"golang.org/x/term"
)

const (
	// DefaultCommandTimeout bounds a key command when Env.CommandTimeout is
	// zero. It is generous because the command may be waiting for a human
	// (a pinentry, a hardware token).
	DefaultCommandTimeout = time.Minute

	maxStderr     = 4 << 10 // captured from a key command
	maxStderrShow = 512     // of which at most this much reaches an error
)

// splitCommand splits a command line into argv without a shell:
//
//   - words are separated by unquoted spaces, tabs and newlines;
//   - '…' and "…" quote: everything up to the matching quote is literal,
//     white space included; a quote character inside is written with the
//     other kind of quote ("'" or '"');
//   - quoted and unquoted parts next to each other form one word, so
//     a'b c'd is the single word "ab cd", and a pair of quotes with
//     nothing between them is an empty argument;
//   - backslashes are ordinary characters (Windows paths work as written);
//   - nothing else is special: no variables, globs, pipes or redirections.
//
// The errors do not quote the input.
func splitCommand(line string) ([]string, error) {
	var (
		argv   []string
		word   strings.Builder
		inWord bool
		quote  rune // the open quote, or 0
	)
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				argv = append(argv, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		argv = append(argv, word.String())
	}
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("empty command")
	}
	return argv, nil
}

// commandError reports a key command (AUTHVAULT_KEY_CMD) that failed, timed
// out, or printed something other than an age identity.
type commandError struct {
	// Program is the command's first word. The arguments are not kept.
	Program string
	// Err says what went wrong: an *exec.ExitError or *exec.Error, an
	// error wrapping context.DeadlineExceeded or context.Canceled, or what is
	// wrong with the output.
	Err error
	// Stderr is the start of what the command wrote to standard error, with
	// white space collapsed. When that output might contain key material it
	// is replaced by a note saying so.
	Stderr string
}

func (e *commandError) Error() string {
	msg := fmt.Sprintf("%s: %q: %v", EnvKeyCommand, e.Program, e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *commandError) Unwrap() error { return e.Err }

// runKeyCommand runs the key command line and parses its standard output.
func runKeyCommand(ctx context.Context, line string, timeout time.Duration) ([]age.Identity, error) {
	argv, err := splitCommand(line)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvKeyCommand, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	stdout := &cappedBuffer{buf: make([]byte, 0, maxKeyData)}
	stderr := &cappedBuffer{buf: make([]byte, 0, maxStderr)}
	defer stdout.zero()
	defer stderr.zero()

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A terminal is passed on so the command can prompt; anything else on
	// our standard input is not the command's to read.
	if term.IsTerminal(int(os.Stdin.Fd())) {
		cmd.Stdin = os.Stdin
	}
	// Once the command is killed, stop waiting for its children to close
	// the output pipes.
	cmd.WaitDelay = time.Second

	cerr := &commandError{Program: argv[0]}
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		cerr.Err = fmt.Errorf("did not finish: %w", ctx.Err())
	case err != nil:
		cerr.Err = err
		cerr.Stderr = stderr.show()
	case stdout.overflow:
		cerr.Err = fmt.Errorf("output longer than %d KiB", maxKeyData>>10)
	default:
		ids, err := ParseIdentities(stdout.buf)
		if err == nil {
			return ids, nil
		}
		cerr.Err = fmt.Errorf("output is not an age identity: %w", err)
	}
	return nil, cerr
}

// cappedBuffer keeps the first cap(buf) bytes written to it and drops the
// rest, without ever reallocating (so no stray copy of a key is left behind)
// and without failing the writer (so the command is not blocked on a pipe).
type cappedBuffer struct {
	buf      []byte
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	n := min(len(p), cap(b.buf)-len(b.buf))
	b.buf = append(b.buf, p[:n]...)
	if n < len(p) {
		b.overflow = true
	}
	return len(p), nil
}

func (b *cappedBuffer) zero() { clear(b.buf[:cap(b.buf)]) }

// show returns the captured text for an error message: white space
// collapsed, control characters dropped, bounded, and withheld if it might
// hold a key.
func (b *cappedBuffer) show() string {
	s := strings.ToValidUTF8(string(b.buf), "?")
	if mayHoldKey(s) {
		return "(standard error not shown: it may contain a key)"
	}
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if len(s) > maxStderrShow {
		s = strings.ToValidUTF8(s[:maxStderrShow], "") + "…"
	}
	return s
}
