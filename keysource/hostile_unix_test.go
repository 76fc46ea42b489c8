//go:build !windows

package keysource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A key file that is a FIFO, a directory or a symlink is refused at once,
// whatever the context allows: nothing waits for a writer that never
// comes, and no link is followed.
func TestKeyFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	id := newTestKey(t, X25519).encoded
	real := filepath.Join(dir, "real.txt")
	writeFile(t, real, []byte(id+"\n"), 0o600)
	fifo := filepath.Join(dir, "fifo.txt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.txt")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, link, sub} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			_, err := (&File{Path: p}).Identities(ctx)
			if !errors.Is(err, ErrNotKeyFile) {
				t.Errorf("File: %v, want ErrNotKeyFile", err)
			}
			env := map[string]string{EnvKeyFile: p}
			_, err = (&Env{Getenv: func(k string) string { return env[k] }}).Identities(ctx)
			if !errors.Is(err, ErrNotKeyFile) || !strings.Contains(err.Error(), EnvKeyFile) {
				t.Errorf("Env: %v, want ErrNotKeyFile naming %s", err, EnvKeyFile)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if ids, err := (&File{Path: real}).Identities(context.Background()); err != nil || len(ids) != 1 {
		t.Fatalf("the real file: %v", err)
	}
}

// A variable of the environment source set to the empty string is an
// error naming it, not a reason to look elsewhere.
func TestEnvSetButEmpty(t *testing.T) {
	for _, name := range []string{EnvKey, EnvKeyFile, EnvKeyCommand} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, "")
			for _, src := range []*Env{{}, {Getenv: os.Getenv}} {
				_, err := src.Identities(context.Background())
				var nf *NotFoundError
				if err == nil || errors.As(err, &nf) || !strings.Contains(err.Error(), name+" is set but empty") {
					t.Errorf("got %v, want an error saying %s is set but empty", err, name)
				}
			}
			os.Unsetenv(name)
			_, err := (&Env{}).Identities(context.Background())
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Errorf("unset: %v, want a *NotFoundError", err)
			}
		})
	}
}
