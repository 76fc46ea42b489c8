package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

func TestInitFileStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		args      []string
		prefix    string
		recipient string
	}{
		{"post-quantum", nil, "AGE-SECRET-KEY-PQ-1", "age1pq1"},
		{"x25519", []string{"--x25519"}, "AGE-SECRET-KEY-1", "age1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.initFile(tc.args...)
			fi, err := os.Stat(s.keyFile())
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
				t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
			}
			ids := s.identitiesFromFile()
			if len(ids) != 1 || !strings.HasPrefix(ids[0].(interface{ String() string }).String(), tc.prefix) {
				t.Fatalf("key file holds %d identities, want one %s…", len(ids), tc.prefix)
			}
			v := openVault(t, s.dir, ids)
			if rs := v.Recipients(); len(rs) != 1 || !strings.HasPrefix(rs[0], tc.recipient) {
				t.Errorf("recipients %v, want one %s…", rs, tc.recipient)
			}
			r := s.run(0, "status", "--json")
			var st statusJSON
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
				t.Fatalf("status --json: %v\n%s", err, r.stdout)
			}
			if st.VaultID != v.ID() || !strings.HasPrefix(st.KeySource, "file ") || !st.Integrity.OK || st.Format != vault.FormatVersion {
				t.Errorf("status: %+v", st)
			}
		})
	}
}

func TestInitEnvStore(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	r := s.runWith(runOpts{stdoutMayKey: true}, "init", "--key-store", "env")
	if r.code != 0 {
		t.Fatal(r)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "AUTHVAULT_KEY=AGE-SECRET-KEY-PQ-1") {
		t.Fatalf("stdout is not exactly one AUTHVAULT_KEY line:\n%s", r.stdout)
	}
	key := strings.TrimPrefix(lines[0], "AUTHVAULT_KEY=")
	s.addSecret(key)
	if !strings.Contains(r.stderr, "CI secret store") {
		t.Errorf("stderr does not say where the key goes:\n%s", r.stderr)
	}
	if _, err := os.Stat(s.keyFile()); !os.IsNotExist(err) {
		t.Errorf("init --key-store env wrote a key file: %v", err)
	}
	// Without the key, nothing opens; with it, status works.
	if r := s.run(1, "status"); !strings.Contains(r.stderr, "no vault key") {
		t.Errorf("status without a key: %s", r)
	}
	s.env["AUTHVAULT_KEY"] = key
	r = s.run(0, "status")
	if !strings.Contains(r.stdout, "environment (AUTHVAULT_KEY)") {
		t.Errorf("status does not name the env source:\n%s", r.stdout)
	}
}

func TestInitDefaultFallsBackToFile(t *testing.T) {
	t.Parallel()
	s := newSandbox(t) // no session bus: the keyring does not answer
	r := s.run(0, "init")
	if !strings.Contains(r.stderr, "no usable OS keyring") || !strings.Contains(r.stdout, "key stored in file "+s.keyFile()) {
		t.Errorf("init without a keyring:\n%s", r)
	}
	s.initFileSecrets()
	s.run(0, "status")
}

// initFileSecrets registers the key file's identities as secrets.
func (s *sandbox) initFileSecrets() {
	for _, id := range s.identitiesFromFile() {
		s.addSecret(id.(interface{ String() string }).String())
	}
}

func TestInitKeyring(t *testing.T) {
	t.Parallel()
	s := newKeyringSandbox(t)
	for i, args := range [][]string{{"init", "--key-store", "keyring"}, {"init"}} {
		dir := filepath.Join(s.root, "vault"+string(rune('a'+i)))
		r := s.run(0, append([]string{"--dir", dir}, args...)...)
		if !strings.Contains(r.stdout, "key stored in keyring") {
			t.Fatalf("%v: key not in the keyring:\n%s", args, r)
		}
		id, err := vault.ReadID(dir)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS == "linux" {
			out, err := exec.Command("secret-tool", "lookup", "service", s.service, "username", id).Output()
			if err != nil {
				t.Fatalf("secret-tool lookup: %v", err)
			}
			key := strings.TrimSpace(string(out))
			s.addSecret(key)
			ids, err := keysource.ParseIdentities([]byte(key))
			if err != nil {
				t.Fatalf("the keyring entry is not an identity: %v", err)
			}
			openVault(t, dir, ids)
		}
		r = s.run(0, "--dir", dir, "status")
		if !strings.Contains(r.stdout, `keyring (service "`+s.service+`", account "`+id+`")`) {
			t.Errorf("status does not name the keyring entry:\n%s", r.stdout)
		}
	}
	if _, err := os.Stat(s.keyFile()); !os.IsNotExist(err) {
		t.Errorf("init with a keyring wrote a key file: %v", err)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	before := snapshot(t, s.dir)
	keyBefore, _ := os.ReadFile(s.keyFile())

	for _, args := range [][]string{
		{"init", "--key-store", "file"},
		{"init", "--key-store", "env"},
		{"init"},
	} {
		r := s.runWith(runOpts{stdoutMayKey: true}, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "already holds a vault") || r.stdout != "" {
			t.Errorf("%v over an existing vault:\n%s", args, r)
		}
	}
	// The key file is one per user: a second vault may not replace it.
	other := filepath.Join(s.root, "other")
	r := s.run(1, "--dir", other, "init", "--key-store", "file")
	if !strings.Contains(r.stderr, "already exists") || !strings.Contains(r.stderr, "--key-store keyring or env") {
		t.Errorf("init over an existing key file:\n%s", r)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("a refused init left %s behind", other)
	}
	// A directory with something else in it is not a vault to create.
	junk := filepath.Join(s.root, "junk")
	os.MkdirAll(junk, 0o700)
	os.WriteFile(filepath.Join(junk, "notes.txt"), []byte("x"), 0o600)
	if r := s.run(1, "--dir", junk, "init", "--key-store", "env"); !strings.Contains(r.stderr, "not empty") {
		t.Errorf("init in a non-empty directory:\n%s", r)
	}

	if diff := keysDiff(before, snapshot(t, s.dir)); diff != "" {
		t.Errorf("the vault changed: %s", diff)
	}
	if keyAfter, _ := os.ReadFile(s.keyFile()); string(keyAfter) != string(keyBefore) {
		t.Error("the key file changed")
	}
	// The original key still opens the vault.
	openVault(t, s.dir, s.identitiesFromFile())
}

// keysDiff describes how two snapshots differ, without their contents.
func keysDiff(a, b map[string]string) string {
	var d []string
	for _, k := range sortedKeys(a) {
		if bv, ok := b[k]; !ok {
			d = append(d, "removed "+k)
		} else if bv != a[k] {
			d = append(d, "changed "+k)
		}
	}
	for _, k := range sortedKeys(b) {
		if _, ok := a[k]; !ok {
			d = append(d, "added "+k)
		}
	}
	return strings.Join(d, ", ")
}

func TestInitEnvKeyOpensOnlyItsVault(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	r := s.runWith(runOpts{stdoutMayKey: true}, "init", "--key-store", "env", "--x25519")
	if r.code != 0 {
		t.Fatal(r)
	}
	key := strings.TrimSpace(strings.TrimPrefix(r.stdout, "AUTHVAULT_KEY="))
	s.addSecret(key)
	id, err := age.ParseX25519Identity(key)
	if err != nil {
		t.Fatalf("the printed key is not an X25519 identity: %v", err)
	}
	v, err := vault.Open(context.Background(), s.dir, []age.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	other, _ := age.GenerateX25519Identity()
	if _, err := vault.Open(context.Background(), s.dir, []age.Identity{other}); err == nil {
		t.Fatal("another key opened the vault")
	}
}
