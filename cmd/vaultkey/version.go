package main

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/authvault/authvault/internal/cli"
)

var versionCommand = &command{
	name:     "version",
	synopsis: "version",
	summary:  "print vaultkey's version",
	help: `Prints the version vaultkey was built as ("devel" for a build from a
source checkout, with the commit when known), and the Go version and
platform.`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			_, err := fmt.Fprintf(e.stdout, "vaultkey %s (%s %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		}
	},
}

// version returns the module version vaultkey was built as: a release
// tag for "go install …@v1.2.3", else "devel", followed by the commit the
// build recorded, if any.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	if v != "devel" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return v + "+" + rev
}
