package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// ErrUsage marks a mistake on the command line: an unknown flag, a
// missing or extra argument. vaultkey prints such an error with the
// command's synopsis and exits 2. Test for it with errors.Is; its text is
// not part of the error's message.
var ErrUsage = errors.New("usage error")

// usageError is an error that errors.Is reports as ErrUsage.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func (e *usageError) Unwrap() error { return e.err }

func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Usagef returns an ErrUsage with a formatted message.
func Usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// Parse parses args with fs, accepting flags before and after positional
// arguments, and returns the positional arguments in order. The standard
// flag package stops at the first positional argument; Parse does not,
// so "rm ID --dir D" and "rm --dir D ID" mean the same. An argument "--"
// ends the flags: everything after it is positional, even when it starts
// with "-". A lone "-" is positional (it often names standard input).
//
// fs should use flag.ContinueOnError. A request for help (-h, --help)
// returns flag.ErrHelp; any other parse error is an ErrUsage.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	flags, positional := split(fs, args)
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		return nil, &usageError{err: err}
	}
	// split leaves nothing positional in flags, except what follows a
	// malformed flag; report it rather than silently dropping it.
	if rest := fs.Args(); len(rest) > 0 {
		return nil, Usagef("unexpected argument %q", rest[0])
	}
	return positional, nil
}

// split separates flags (with their values) from positional arguments,
// using fs to know which flags take a value.
func split(fs *flag.FlagSet, args []string) (flags, positional []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if takesValue(fs, name) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, positional
}

// takesValue reports whether the flag named name exists and needs a value
// (that is, it is not a boolean flag).
func takesValue(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return false
	}
	return true
}

// TakesValue reports whether the flag named name is defined in fs and
// needs a value. vaultkey uses it to step over the flags that come before
// a subcommand's name.
func TakesValue(fs *flag.FlagSet, name string) bool { return takesValue(fs, name) }
