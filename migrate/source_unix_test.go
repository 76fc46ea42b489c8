//go:build unix

package migrate

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO in a credential file's place must not hang the read.
func TestReadFileFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "auth.json")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip(err)
	}
	s, _ := SourceByName(SourceCodex)
	_, problems := s.ReadFile(p)
	if len(problems) != 1 || !errors.Is(problems[0].Err, ErrNotRegular) {
		t.Fatalf("problems = %v, want ErrNotRegular", problems)
	}
}
