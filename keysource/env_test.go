package keysource

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		line    string
		want    []string
		wantErr string
	}{
		{line: "pass show authvault/key", want: []string{"pass", "show", "authvault/key"}},
		{line: "  op\tread \n op://vault/item/key  ", want: []string{"op", "read", "op://vault/item/key"}},
		{line: `cat '/home/u/my keys/key.txt'`, want: []string{"cat", "/home/u/my keys/key.txt"}},
		{line: `cat "/home/u/my keys/key.txt"`, want: []string{"cat", "/home/u/my keys/key.txt"}},
		{line: `echo a'b c'd`, want: []string{"echo", "ab cd"}},
		{line: `echo "it's" '"quoted"'`, want: []string{"echo", "it's", `"quoted"`}},
		{line: `cmd '' ""`, want: []string{"cmd", "", ""}},
		{line: `C:\Tools\getkey.exe --vault=work`, want: []string{`C:\Tools\getkey.exe`, "--vault=work"}},
		{line: `sh -c "echo $HOME | cat" ; rm *`, want: []string{"sh", "-c", "echo $HOME | cat", ";", "rm", "*"}},
		{line: "", wantErr: "empty command"},
		{line: "   \t", wantErr: "empty command"},
		{line: `'' arg`, wantErr: "empty command"},
		{line: `cat 'unterminated`, wantErr: "unterminated ' quote"},
		{line: `cat "unterminated`, wantErr: `unterminated " quote`},
	}
	for _, tt := range tests {
		got, err := splitCommand(tt.line)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("splitCommand(%q) = %q, %v; want error %q", tt.line, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("splitCommand(%q): %v", tt.line, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitCommand(%q) (-want +got):\n%s", tt.line, diff)
		}
	}
}

func TestEnv(t *testing.T) {
	pq := newTestKey(t, PostQuantum)
	x := newTestKey(t, X25519)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(keyFile, []byte("# vault key\n"+x.encoded+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	looseFile := filepath.Join(dir, "loose.txt")
	if err := os.WriteFile(looseFile, []byte(x.encoded+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(looseFile, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(helperKeyEnv, pq.encoded)

	tests := []struct {
		name        string
		env         map[string]string
		timeout     time.Duration // Env.CommandTimeout
		ctxTimeout  time.Duration
		wantRcpt    string // recipient of the identity found
		wantErr     string // substring of the error
		check       func(t *testing.T, err error)
		skipWindows bool
	}{
		{name: "AUTHVAULT_KEY post-quantum", env: map[string]string{EnvKey: pq.encoded}, wantRcpt: pq.recipient},
		{name: "AUTHVAULT_KEY X25519", env: map[string]string{EnvKey: x.encoded}, wantRcpt: x.recipient},
		{
			name:    "AUTHVAULT_KEY malformed",
			env:     map[string]string{EnvKey: corrupt(pq.encoded)},
			wantErr: "AUTHVAULT_KEY: line 1: malformed post-quantum identity",
		},
		{
			name:    "nothing set",
			env:     map[string]string{},
			wantErr: "AUTHVAULT_KEY not set",
			check: func(t *testing.T, err error) {
				var nf *NotFoundError
				if !errors.As(err, &nf) {
					t.Errorf("error is %T, want *NotFoundError", err)
				}
			},
		},
		{
			name:    "two set",
			env:     map[string]string{EnvKey: pq.encoded, EnvKeyCommand: "pass show key"},
			wantErr: "AUTHVAULT_KEY and AUTHVAULT_KEY_CMD are set: set only one",
		},
		{name: "AUTHVAULT_KEY_FILE", env: map[string]string{EnvKeyFile: keyFile}, wantRcpt: x.recipient},
		{
			name:    "AUTHVAULT_KEY_FILE missing",
			env:     map[string]string{EnvKeyFile: filepath.Join(dir, "nope.txt")},
			wantErr: "AUTHVAULT_KEY_FILE " + filepath.Join(dir, "nope.txt") + ": file does not exist",
			check: func(t *testing.T, err error) {
				// Named explicitly, so not a reason to look elsewhere.
				if absent(err) {
					t.Error("a missing AUTHVAULT_KEY_FILE is reported as an absent key")
				}
				if !errors.Is(err, fs.ErrNotExist) {
					t.Error("error does not wrap fs.ErrNotExist")
				}
			},
		},
		{
			name:        "AUTHVAULT_KEY_FILE loose permissions",
			env:         map[string]string{EnvKeyFile: looseFile},
			wantErr:     "chmod 600 " + looseFile,
			skipWindows: true,
		},
		{
			name:     "AUTHVAULT_KEY_CMD",
			env:      map[string]string{EnvKeyCommand: helperCommand(t, "print-key")},
			wantRcpt: pq.recipient,
		},
		{
			name:    "AUTHVAULT_KEY_CMD fails",
			env:     map[string]string{EnvKeyCommand: helperCommand(t, "fail")},
			wantErr: "exit status 3: Error: authvault/key is not in the password store.",
			check: func(t *testing.T, err error) {
				var ce *commandError
				if !errors.As(err, &ce) {
					t.Fatalf("error is %T, want *commandError", err)
				}
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 3 {
					t.Errorf("error does not wrap exit status 3")
				}
				if ce.Program != os.Args[0] {
					t.Errorf("Program = %q", ce.Program)
				}
			},
		},
		{
			name:    "AUTHVAULT_KEY_CMD fails showing the key on stderr",
			env:     map[string]string{EnvKeyCommand: helperCommand(t, "fail-leaking-key")},
			wantErr: "exit status 1: (standard error not shown: it may contain a key)",
		},
		{
			name:    "AUTHVAULT_KEY_CMD prints garbage",
			env:     map[string]string{EnvKeyCommand: helperCommand(t, "garbage")},
			wantErr: "output is not an age identity: line 1: unknown identity type",
			check: func(t *testing.T, err error) {
				var pe *parseError
				if !errors.As(err, &pe) {
					t.Errorf("error does not wrap a *parseError")
				}
			},
		},
		{
			name:    "AUTHVAULT_KEY_CMD prints nothing",
			env:     map[string]string{EnvKeyCommand: helperCommand(t, "empty")},
			wantErr: "output is not an age identity: no identities found",
		},
		{
			name:    "AUTHVAULT_KEY_CMD prints too much",
			env:     map[string]string{EnvKeyCommand: helperCommand(t, "huge")},
			wantErr: "output longer than 64 KiB",
		},
		{
			name:       "AUTHVAULT_KEY_CMD hangs past the context",
			env:        map[string]string{EnvKeyCommand: helperCommand(t, "hang")},
			ctxTimeout: 300 * time.Millisecond,
			wantErr:    "did not finish: context deadline exceeded",
			check:      wantDeadline,
		},
		{
			name:    "AUTHVAULT_KEY_CMD hangs past CommandTimeout",
			env:     map[string]string{EnvKeyCommand: helperCommand(t, "hang")},
			timeout: 300 * time.Millisecond,
			wantErr: "did not finish: context deadline exceeded",
			check:   wantDeadline,
		},
		{
			name:    "AUTHVAULT_KEY_CMD not found",
			env:     map[string]string{EnvKeyCommand: "authvault-no-such-command --flag"},
			wantErr: `"authvault-no-such-command": exec: "authvault-no-such-command": executable file not found`,
		},
		{
			name:    "AUTHVAULT_KEY_CMD badly quoted",
			env:     map[string]string{EnvKeyCommand: "pass show 'authvault"},
			wantErr: "AUTHVAULT_KEY_CMD: unterminated ' quote",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skipWindows && os.PathSeparator == '\\' {
				t.Skip("no Unix permissions")
			}
			ctx := context.Background()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			e := &Env{Getenv: mapEnv(tt.env), CommandTimeout: tt.timeout}
			start := time.Now()
			ids, err := e.Identities(ctx)
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %d identities, want error %q", len(ids), tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				assertNoSecret(t, err, pq.encoded, x.encoded)
				if tt.check != nil {
					tt.check(t, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 1 {
				t.Fatalf("got %d identities", len(ids))
			}
			if got := recipientString(t, ids[0]); got != tt.wantRcpt {
				t.Errorf("found the wrong key")
			}
		})
	}
}

func wantDeadline(t *testing.T, err error) {
	t.Helper()
	var ce *commandError
	if !errors.As(err, &ce) {
		t.Errorf("error is %T, want *commandError", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not wrap context.DeadlineExceeded")
	}
}

func TestCapturedStderr(t *testing.T) {
	x := newTestKey(t, X25519)
	tests := []struct {
		name  string
		write string
		want  string
	}{
		{"empty", "", ""},
		{"collapsed", "  Error:\n\tno such\x1b[31m entry \r\n", "Error: no such [31m entry"},
		{"bounded", strings.Repeat("é", 400), strings.Repeat("é", 256) + "…"},
		{"key withheld", "loaded " + x.encoded + "\n", "(standard error not shown: it may contain a key)"},
	}
	for _, tt := range tests {
		b := &cappedBuffer{buf: make([]byte, 0, maxStderr)}
		b.Write([]byte(tt.write))
		if got := b.show(); got != tt.want {
			t.Errorf("%s: show() = %q, want %q", tt.name, got, tt.want)
		}
	}

	b := &cappedBuffer{buf: make([]byte, 0, 4)}
	if n, err := b.Write([]byte("abcdef")); n != 6 || err != nil {
		t.Errorf("Write = %d, %v; want the whole write accepted", n, err)
	}
	if string(b.buf) != "abcd" || !b.overflow {
		t.Errorf("buf %q overflow %v", b.buf, b.overflow)
	}
	b.zero()
	if string(b.buf) != "\x00\x00\x00\x00" {
		t.Errorf("zero left %q", b.buf)
	}
}
