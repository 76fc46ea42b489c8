package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.age")
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := writeFileAtomic(path, write("one")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, write("two")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "two" || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("content %q mode %v, want two 0600", got, fi.Mode().Perm())
	}
	// A failed write leaves the old file and no temporary.
	boom := errors.New("boom")
	if err := writeFileAtomic(path, func(w io.Writer) error { io.WriteString(w, "partial"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	got, _ = os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	if string(got) != "two" || len(entries) != 1 {
		t.Errorf("after a failed write: content %q, %d files", got, len(entries))
	}
	// Not over a directory.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	if err := writeFileAtomic(sub, write("x")); err == nil {
		t.Error("replaced a directory")
	}
}
