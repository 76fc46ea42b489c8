package keysource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/term"
)

// testLogN keeps scrypt cheap in tests; real files use age's default.
const testLogN = 10

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// scryptFile encrypts plain with passphrase the way "age -p" does.
func scryptFile(t *testing.T, plain, passphrase string, armored bool) []byte {
	t.Helper()
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(testLogN)
	return encryptTo(t, plain, armored, r)
}

func encryptTo(t *testing.T, plain string, armored bool, r age.Recipient) []byte {
	t.Helper()
	var out bytes.Buffer
	var dst io.Writer = &out
	var aw io.WriteCloser
	if armored {
		aw = armor.NewWriter(&out)
		dst = aw
	}
	w, err := age.Encrypt(dst, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func TestFileIdentities(t *testing.T) {
	pq := newTestKey(t, PostQuantum)
	x := newTestKey(t, X25519)
	const pass = "correct horse battery staple"
	other := newTestKey(t, X25519)
	otherRcpt, err := age.ParseX25519Recipient(other.recipient)
	if err != nil {
		t.Fatal(err)
	}

	noPrompt := func(string) ([]byte, error) { return nil, ErrNoPassphrase }
	prompt := func(p string) func(string) ([]byte, error) {
		return func(string) ([]byte, error) { return []byte(p), nil }
	}

	tests := []struct {
		name     string
		data     []byte // nil: no file
		mode     os.FileMode
		env      map[string]string
		prompt   func(string) ([]byte, error)
		wantRcpt string
		wantErr  string
		wantIs   error
		check    func(t *testing.T, err error)
		unixOnly bool
	}{
		{name: "post-quantum", data: []byte(pq.encoded + "\n"), mode: 0o600, wantRcpt: pq.recipient},
		{name: "X25519 with comments", data: []byte("# created: today\n# public key: " + x.recipient + "\n" + x.encoded + "\n"), mode: 0o400, wantRcpt: x.recipient},
		{
			name: "missing", data: nil, wantErr: ": not found",
			check: func(t *testing.T, err error) {
				var nf *NotFoundError
				if !errors.As(err, &nf) {
					t.Errorf("error is %T, want *NotFoundError", err)
				}
			},
		},
		{name: "world-readable", data: []byte(x.encoded), mode: 0o644, wantErr: "group or others may access it (mode 0644); fix with: chmod 600 ", unixOnly: true, check: wantInsecure},
		{name: "group-readable", data: []byte(x.encoded), mode: 0o640, wantErr: "(mode 0640); fix with: chmod 600 ", unixOnly: true, check: wantInsecure},
		{name: "group-writable", data: []byte(x.encoded), mode: 0o620, wantErr: "(mode 0620)", unixOnly: true, check: wantInsecure},
		{name: "others-executable", data: []byte(x.encoded), mode: 0o601, wantErr: "(mode 0601)", unixOnly: true, check: wantInsecure},
		{name: "malformed", data: []byte("# key\n" + corrupt(x.encoded)), mode: 0o600, wantErr: "line 2: malformed X25519 identity"},
		{
			name: "passphrase-protected, armored, passphrase from env",
			data: scryptFile(t, x.encoded+"\n", pass, true), mode: 0o600,
			env: map[string]string{EnvPassphrase: pass}, prompt: noPrompt, wantRcpt: x.recipient,
		},
		{
			name: "passphrase-protected, binary, passphrase from prompt",
			data: scryptFile(t, pq.encoded+"\n", pass, false), mode: 0o600,
			prompt: prompt(pass), wantRcpt: pq.recipient,
		},
		{
			name: "passphrase-protected, wrong passphrase from env",
			data: scryptFile(t, x.encoded+"\n", pass, true), mode: 0o600,
			env: map[string]string{EnvPassphrase: "Tr0ub4dor&3"}, wantErr: "incorrect passphrase", wantIs: ErrIncorrectPassphrase,
		},
		{
			name: "passphrase-protected, wrong passphrase from prompt",
			data: scryptFile(t, x.encoded+"\n", pass, false), mode: 0o600,
			prompt: prompt("Tr0ub4dor&3"), wantErr: "incorrect passphrase", wantIs: ErrIncorrectPassphrase,
		},
		{
			name: "passphrase-protected, no passphrase",
			data: scryptFile(t, x.encoded+"\n", pass, true), mode: 0o600,
			prompt: noPrompt, wantErr: "is passphrase-protected: no passphrase (set AUTHVAULT_PASSPHRASE", wantIs: ErrNoPassphrase,
		},
		{
			name: "passphrase-protected, empty passphrase typed",
			data: scryptFile(t, x.encoded+"\n", pass, true), mode: 0o600,
			prompt: prompt(""), wantErr: "empty passphrase",
		},
		{
			name: "encrypted to a key",
			data: encryptTo(t, x.encoded+"\n", true, otherRcpt), mode: 0o600,
			env: map[string]string{EnvPassphrase: pass}, wantErr: "encrypted to a key, not with a passphrase",
		},
		{
			name: "encrypted garbage",
			data: scryptFile(t, "not a key\n", pass, true), mode: 0o600,
			env: map[string]string{EnvPassphrase: pass}, wantErr: "decrypted, but line 1: unknown identity type",
		},
		{
			name: "truncated age file",
			data: scryptFile(t, x.encoded+"\n", pass, false)[:40], mode: 0o600,
			env: map[string]string{EnvPassphrase: pass}, wantErr: "not a valid age file",
		},
		{name: "too large", data: bytes.Repeat([]byte("#"), maxKeyData+1), mode: 0o600, wantErr: "longer than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unixOnly && runtime.GOOS == "windows" {
				t.Skip("no Unix permissions")
			}
			path := filepath.Join(t.TempDir(), "key.txt")
			if tt.data != nil {
				writeFile(t, path, tt.data, tt.mode)
			}
			var prompts []string
			promptFn := tt.prompt
			if promptFn != nil {
				inner := promptFn
				promptFn = func(p string) ([]byte, error) {
					prompts = append(prompts, p)
					return inner(p)
				}
			}
			f := &File{Path: path, Getenv: mapEnv(tt.env), Prompt: promptFn}
			if got, want := f.Name(), "file "+path; got != want {
				t.Errorf("Name() = %q, want %q", got, want)
			}
			ids, err := f.Identities(context.Background())
			for _, p := range prompts {
				if !strings.Contains(p, path) {
					t.Errorf("prompt %q does not name the file", p)
				}
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %d identities, want error %q", len(ids), tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "file "+path) {
					t.Errorf("error %q does not start with the source's name", err)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("error does not wrap %v", tt.wantIs)
				}
				if tt.check != nil {
					tt.check(t, err)
				}
				assertNoSecret(t, err, pq.encoded, x.encoded, pass, "Tr0ub4dor&3")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 1 || recipientString(t, ids[0]) != tt.wantRcpt {
				t.Errorf("found the wrong key")
			}
		})
	}
}

func wantInsecure(t *testing.T, err error) {
	t.Helper()
	var ie *insecureFileError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInsecureFile) {
		t.Errorf("error is %T (%v), want an ErrInsecureFile", err, err)
	}
}

func TestFileDefaultPrompt(t *testing.T) {
	if term.IsTerminal(int(os.Stdin.Fd())) {
		t.Skip("standard input is a terminal: the default prompt would ask")
	}
	path := filepath.Join(t.TempDir(), "key.txt")
	x := newTestKey(t, X25519)
	writeFile(t, path, scryptFile(t, x.encoded, "pw", true), 0o600)
	f := &File{Path: path, Getenv: mapEnv(nil)}
	_, err := f.Identities(context.Background())
	if !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("error %v, want ErrNoPassphrase", err)
	}
}

func TestFileInsecureMessage(t *testing.T) {
	err := &insecureFileError{Path: "/home/a b/it's/key.txt", Mode: 0o644}
	want := `file /home/a b/it's/key.txt: group or others may access it (mode 0644); fix with: chmod 600 '/home/a b/it'\''s/key.txt'`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func TestFileStore(t *testing.T) {
	tests := []struct {
		name       string
		kind       Kind
		passphrase string
	}{
		{"post-quantum", PostQuantum, ""},
		{"X25519", X25519, ""},
		{"post-quantum with passphrase", PostQuantum, "a passphrase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			k := newTestKey(t, tt.kind)
			dir := filepath.Join(t.TempDir(), "config", "authvault")
			path := filepath.Join(dir, "key.txt")
			f := &File{Path: path, Getenv: mapEnv(map[string]string{EnvPassphrase: tt.passphrase}), scryptLogN: testLogN}

			if has, err := f.Has(ctx); err != nil || has {
				t.Fatalf("Has before Store = %v, %v", has, err)
			}
			store := func(identity string) error {
				if tt.passphrase != "" {
					return f.StoreEncrypted(ctx, identity, tt.passphrase)
				}
				return f.Store(ctx, identity)
			}
			if err := store(k.encoded); err != nil {
				t.Fatal(err)
			}
			if has, err := f.Has(ctx); err != nil || !has {
				t.Fatalf("Has after Store = %v, %v", has, err)
			}
			if runtime.GOOS != "windows" {
				assertMode(t, dir, 0o700)
				assertMode(t, path, 0o600)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only key.txt (no temporary files)", len(entries))
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if encrypted, armored := ageEncrypted(data); encrypted != (tt.passphrase != "") || armored != encrypted {
				t.Errorf("stored file: encrypted=%v armored=%v", encrypted, armored)
			}
			if tt.passphrase == "" && !bytes.Contains(data, []byte("# public key: "+k.recipient+"\n")) {
				t.Errorf("key file does not name its public key")
			}

			ids, err := f.Identities(ctx)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, k.recipient, ids)

			// Never overwritten, whatever the new key.
			other := newTestKey(t, X25519)
			err = store(other.encoded)
			if !errors.Is(err, ErrKeyExists) {
				t.Fatalf("second Store: %v, want ErrKeyExists", err)
			}
			assertNoSecret(t, err, k.encoded, other.encoded, tt.passphrase)
			ids, err = f.Identities(ctx)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, k.recipient, ids)

			if err := f.Delete(ctx); err != nil {
				t.Fatal(err)
			}
			if has, err := f.Has(ctx); err != nil || has {
				t.Fatalf("Has after Delete = %v, %v", has, err)
			}
			var nf *NotFoundError
			if err := f.Delete(ctx); !errors.As(err, &nf) {
				t.Errorf("second Delete: %v, want *NotFoundError", err)
			}
		})
	}
}

func TestFileStoreRefusesInvalidKey(t *testing.T) {
	x := newTestKey(t, X25519)
	path := filepath.Join(t.TempDir(), "key.txt")
	f := &File{Path: path}
	for _, identity := range []string{"", "hello", corrupt(x.encoded), x.recipient} {
		err := f.Store(context.Background(), identity)
		var pe *parseError
		if !errors.As(err, &pe) {
			t.Errorf("Store(invalid) = %v, want a *parseError", err)
		}
		assertNoSecret(t, err, x.encoded, corrupt(x.encoded))
	}
	if err := f.StoreEncrypted(context.Background(), x.encoded, ""); err == nil {
		t.Error("StoreEncrypted with an empty passphrase succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file was written: %v", err)
	}
}

func TestDefaultFilePath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME is the config directory on Linux only")
	}
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	got, err := DefaultFilePath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cfg, "authvault", "key.txt"); got != want {
		t.Errorf("DefaultFilePath() = %q, want %q", got, want)
	}
	f := &File{}
	if got, want := f.Name(), "file "+filepath.Join(cfg, "authvault", "key.txt"); got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}

	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "")
	_, err = f.Identities(context.Background())
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("without a config directory: %v, want *NotFoundError", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", path, got, want)
	}
}
