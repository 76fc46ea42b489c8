package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/authvault/authvault/internal/cli"
)

var versionCommand = &command{
	name:     "version",
	synopsis: "version",
	summary:  "print vaultkey's version",
	help: `Prints the module version vaultkey was built as, and the Go version and
platform; "vaultkey --version" and "vaultkey -v" print the same.

The version is a release tag for "go install …@v1.2.3", and a pseudo-version
naming the commit (v0.0.0-DATE-COMMIT, "+dirty" with uncommitted changes)
for "go install ./cmd/vaultkey" in a git clone. It is "devel" for a build
that recorded neither (outside a clone, or with -buildvcs=false).`,
	setup: func(fs *flag.FlagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			return printVersion(e.stdout)
		}
	},
}

func printVersion(w io.Writer) error {
	info, _ := debug.ReadBuildInfo()
	_, err := fmt.Fprintf(w, "vaultkey %s (%s %s/%s)\n", versionOf(info), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

// versionOf returns the module version a build recorded: a release tag or
// the pseudo-version the go command derives from the commit, else
// "devel", followed by the commit when the build recorded one.
func versionOf(info *debug.BuildInfo) string {
	if info == nil {
		return "devel"
	}
	v := info.Main.Version
	if v != "" && v != "(devel)" {
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
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return "devel+" + rev
}
