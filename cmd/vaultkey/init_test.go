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

// With the key in the environment, init creates the vault for that key
// and says so; flags the variable would override are refused, naming it.
func TestInitUsesEnvKey(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	s.addSecret(id.String())
	s.env["AUTHVAULT_KEY"] = id.String()
	for _, flags := range [][]string{{"--key-store", "file"}, {"--key-store", "env"}, {"--key-file", filepath.Join(s.root, "k.txt")}, {"--passphrase"}, {"--x25519"}} {
		r := s.run(1, append([]string{"init"}, flags...)...)
		if !strings.Contains(r.stderr, "AUTHVAULT_KEY is set") || !strings.Contains(r.stderr, "unset AUTHVAULT_KEY") {
			t.Errorf("init %v with AUTHVAULT_KEY set:\n%s", flags, r)
		}
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("a refused init left %s behind", s.dir)
	}
	r := s.run(0, "init")
	if !strings.Contains(r.stdout, "public key "+vault.Fingerprint(id.Recipient().String())) ||
		!strings.Contains(r.stdout, "opens with the key from environment (AUTHVAULT_KEY): no new key was made") {
		t.Errorf("init with AUTHVAULT_KEY:\n%s", r)
	}
	if _, err := os.Stat(s.keyFile()); !os.IsNotExist(err) {
		t.Errorf("init with AUTHVAULT_KEY wrote a key file: %v", err)
	}
	openVault(t, s.dir, []age.Identity{id})
	s.addKey("openai", "work", "sk-canary-env-init")
	s.run(0, "status")

	// AUTHVAULT_KEY_CMD likewise.
	c := newSandbox(t)
	keyPath := filepath.Join(c.root, "key-for-cmd.txt")
	if err := os.WriteFile(keyPath, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.addSecret(id.String())
	c.env["AUTHVAULT_KEY_CMD"] = "cat " + keyPath
	if r := c.run(0, "init"); !strings.Contains(r.stdout, "environment (AUTHVAULT_KEY_CMD)") {
		t.Errorf("init with AUTHVAULT_KEY_CMD:\n%s", r)
	}
	openVault(t, c.dir, []age.Identity{id})
}

// AUTHVAULT_KEY_FILE and --key-file put a file key where asked, so that
// several vaults each have one.
func TestInitKeyFile(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile() // the default key file, of another vault
	first := filepath.Join(s.root, "first.key")
	dirA, dirB := filepath.Join(s.root, "a"), filepath.Join(s.root, "b")

	// A key file that does not exist yet gets a new key.
	s.env["AUTHVAULT_KEY_FILE"] = first
	r := s.run(0, "--dir", dirA, "init")
	if !strings.Contains(r.stdout, "key stored in file "+first) {
		t.Errorf("init with AUTHVAULT_KEY_FILE:\n%s", r)
	}
	idsA := keyFileIdentities(t, s, first)
	openVault(t, dirA, idsA)
	s.run(0, "--dir", dirA, "status")
	// One that exists opens the new vault as it is.
	r = s.run(0, "--dir", dirB, "init")
	if !strings.Contains(r.stdout, "opens with the key from environment (AUTHVAULT_KEY_FILE "+first+"): no new key was made") {
		t.Errorf("init with an existing AUTHVAULT_KEY_FILE:\n%s", r)
	}
	openVault(t, dirB, idsA)
	// Flags it would override are refused.
	for _, flags := range [][]string{{"--key-file", filepath.Join(s.root, "other.key")}, {"--key-store", "env"}, {"--key-store", "keyring"}} {
		if r := s.run(1, append([]string{"--dir", filepath.Join(s.root, "c"), "init"}, flags...)...); !strings.Contains(r.stderr, "AUTHVAULT_KEY_FILE") {
			t.Errorf("init %v with AUTHVAULT_KEY_FILE set:\n%s", flags, r)
		}
	}
	delete(s.env, "AUTHVAULT_KEY_FILE")

	// --key-file: a key file of this vault's own, and how to use it.
	second := filepath.Join(s.root, "keys", "second.key")
	dirC := filepath.Join(s.root, "c")
	r = s.run(0, "--dir", dirC, "init", "--key-file", second)
	if !strings.Contains(r.stdout, "key stored in file "+second) || !strings.Contains(r.stdout, "set AUTHVAULT_KEY_FILE="+second) {
		t.Errorf("init --key-file:\n%s", r)
	}
	idsC := keyFileIdentities(t, s, second)
	openVault(t, dirC, idsC)
	s.runWith(runOpts{env: map[string]string{"AUTHVAULT_KEY_FILE": second}}, "--dir", dirC, "status")
	// The default key file still opens its own vault.
	openVault(t, s.dir, s.identitiesFromFile())
	// An existing key file is never replaced; the default one's error
	// says how to give a second vault a key file.
	if r := s.run(1, "--dir", filepath.Join(s.root, "d"), "init", "--key-file", second); !strings.Contains(r.stderr, "already exists") {
		t.Errorf("init --key-file over an existing file:\n%s", r)
	}
	if r := s.run(1, "--dir", filepath.Join(s.root, "d"), "init", "--key-store", "file"); !strings.Contains(r.stderr, "--key-file PATH") || strings.Contains(r.stderr, "move it away") {
		t.Errorf("init over the default key file:\n%s", r)
	}
}

// keyFileIdentities reads a plain key file and registers its identities
// as secrets.
func keyFileIdentities(t *testing.T, s *sandbox, path string) []age.Identity {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file %s: %v %v", path, fi.Mode(), err)
	}
	ids, err := keysource.ParseIdentities(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		s.addSecret(id.(interface{ String() string }).String())
	}
	return ids
}

// init --passphrase writes a passphrase-protected key file; every use
// then needs the passphrase.
func TestInitPassphrase(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	const pass = "correct horse battery staple"
	s.addSecret(pass)
	// No passphrase in the environment and no terminal: nothing is made.
	if r := s.run(1, "init", "--passphrase"); !strings.Contains(r.stderr, "AUTHVAULT_PASSPHRASE") {
		t.Errorf("init --passphrase without one:\n%s", r)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("a refused init left %s behind", s.dir)
	}
	s.run(2, "init", "--passphrase", "--key-store", "env")
	withPass := runOpts{env: map[string]string{"AUTHVAULT_PASSPHRASE": pass}}
	r := s.runWith(withPass, "init", "--passphrase")
	if r.code != 0 || !strings.Contains(r.stdout, "key stored in file "+s.keyFile()+" (passphrase-protected)") {
		t.Fatalf("init --passphrase:\n%s", r)
	}
	checkPassphraseKeyFile(t, s, pass)
}

func checkPassphraseKeyFile(t *testing.T, s *sandbox, pass string) {
	t.Helper()
	raw, err := os.ReadFile(s.keyFile())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "-----BEGIN AGE ENCRYPTED FILE-----") {
		t.Fatalf("the key file is not an armored age file:\n%.60s", raw)
	}
	if r := s.run(1, "status"); !strings.Contains(r.stderr, "passphrase") {
		t.Errorf("status without the passphrase:\n%s", r)
	}
	if r := s.runWith(runOpts{env: map[string]string{"AUTHVAULT_PASSPHRASE": "wrong " + pass}}, "status"); r.code != 1 || !strings.Contains(r.stderr, "incorrect passphrase") {
		t.Errorf("status with a wrong passphrase:\n%s", r)
	}
	if r := s.runWith(runOpts{env: map[string]string{"AUTHVAULT_PASSPHRASE": pass}}, "status"); r.code != 0 || !strings.Contains(r.stdout, "file "+s.keyFile()) {
		t.Errorf("status with the passphrase:\n%s", r)
	}
}
