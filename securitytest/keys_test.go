//go:build unix

package securitytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

// getenv returns a Getenv over m.
func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// scryptKeyFile writes identity to path as "age -p -a" does, with a low
// work factor so the test stays fast.
func scryptKeyFile(t *testing.T, path, identity, passphrase string) {
	t.Helper()
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	var b bytes.Buffer
	aw := armor.NewWriter(&b)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, identity)
	w.Close()
	aw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The default key chain: the environment (AUTHVAULT_KEY, AUTHVAULT_KEY_FILE
// or AUTHVAULT_KEY_CMD, one of them), then the OS keyring under service
// "authvault" and the vault's id as account, then the key file
// <UserConfigDir>/authvault/key.txt. The first source with a key wins.
func TestKeySources(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id, err := vault.ReadID(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := readHeader(t, f.dir); id != h.VaultID {
		t.Fatalf("ReadID %q, vault.json says %q", id, h.VaultID)
	}
	env := map[string]string{}
	chain := keysource.Default(id, getenv(env))
	if len(chain.Sources) != 3 {
		t.Fatalf("default chain has %d sources", len(chain.Sources))
	}
	if _, ok := chain.Sources[0].(*keysource.Env); !ok {
		t.Errorf("first source is %T, want the environment", chain.Sources[0])
	}
	kr, ok := chain.Sources[1].(*keysource.Keyring)
	if !ok || kr.Account != id || (kr.Service != "" && kr.Service != "authvault") || keysource.DefaultKeyringService != "authvault" {
		t.Errorf("second source is %#v, want the keyring entry service \"authvault\", account %q", chain.Sources[1], id)
	}
	kf, ok := chain.Sources[2].(*keysource.File)
	cfg, _ := os.UserConfigDir()
	want := filepath.Join(cfg, "authvault", "key.txt")
	if def, _ := keysource.DefaultFilePath(); !ok || (kf.Path != want && kf.Path != "") || def != want {
		t.Errorf("third source is %#v, want the key file %s", chain.Sources[2], want)
	}

	// The key file, created as vaultkey init does.
	if err := (&keysource.File{}).Store(ctx, f.c.Identity); err != nil {
		t.Fatal(err)
	}
	if err := (&keysource.File{}).Store(ctx, f.c.Identity); !errors.Is(err, keysource.ErrKeyExists) {
		t.Errorf("a second Store: %v, want ErrKeyExists", err)
	}
	for p, mode := range map[string]os.FileMode{want: 0o600, filepath.Dir(want): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), mode)
		}
	}
	defer os.Remove(want)
	if keysource.DefaultKeyringTimeout != 5*time.Second || keysource.DefaultCommandTimeout != time.Minute {
		t.Errorf("keyring calls bounded to %v, key commands to %v", keysource.DefaultKeyringTimeout, keysource.DefaultCommandTimeout)
	}
	_, err = (&keysource.Env{Getenv: getenv(map[string]string{"AUTHVAULT_KEY_CMD": "head -c 70000 /dev/zero"})}).Identities(ctx)
	if err == nil || !strings.Contains(err.Error(), "longer than 64 KiB") {
		t.Errorf("a key command printing 70000 bytes: %v", err)
	}

	// Resolving with nothing in the environment asks the keyring: only
	// where no session bus can answer.
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err != nil {
		_, from, err := chain.Resolve(ctx)
		if err != nil || from != chain.Sources[2] {
			t.Errorf("with only the key file: from %v, %v", from, err)
		}
	}
	other, otherEnc, _, _ := keysource.GenerateIdentity(keysource.PostQuantum)
	env["AUTHVAULT_KEY"] = otherEnc
	ids, from, err := chain.Resolve(ctx)
	if err != nil || from != chain.Sources[0] || ids[0].(*age.HybridIdentity).Recipient().String() != other.(*age.HybridIdentity).Recipient().String() {
		t.Errorf("AUTHVAULT_KEY set: from %v, %v; want the environment first", from, err)
	}
	env["AUTHVAULT_KEY_CMD"] = "true"
	if _, _, err := chain.Resolve(ctx); err == nil || !strings.Contains(err.Error(), "set only one") {
		t.Errorf("two variables set: %v", err)
	}

	// The default vault directory.
	if d, err := authvault.DefaultDir(); err != nil || d != filepath.Join(os.Getenv("XDG_DATA_HOME"), "authvault") {
		t.Errorf("DefaultDir %q, %v", d, err)
	}
	t.Setenv("AUTHVAULT_DIR", f.dir)
	if d, _ := authvault.DefaultDir(); d != f.dir {
		t.Errorf("DefaultDir with AUTHVAULT_DIR: %q", d)
	}

	// The root package's OpenVault uses that chain for the vault's id.
	t.Setenv("AUTHVAULT_KEY", f.c.Identity)
	v, err := authvault.OpenVault(ctx, f.dir, nil)
	if err != nil {
		t.Fatalf("OpenVault with AUTHVAULT_KEY: %v", err)
	}
	v.Close()
}

// A key file others may read is refused with the chmod that fixes it; a
// passphrase-protected one (an age scrypt file) opens with the passphrase
// only.
func TestKeyFileChecks(t *testing.T) {
	ctx := context.Background()
	c := newCanaries(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(plain, []byte(c.Identity+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := (&keysource.File{Path: plain}).Identities(ctx)
	if !errors.Is(err, keysource.ErrInsecureFile) || !strings.Contains(err.Error(), "chmod 600 "+plain) {
		t.Errorf("a 0640 key file: %v", err)
	}
	c.checkErr(t, "insecure key file", err)
	os.Chmod(plain, 0o600)
	if _, err := (&keysource.File{Path: plain}).Identities(ctx); err != nil {
		t.Errorf("a 0600 key file: %v", err)
	}

	enc := filepath.Join(dir, "key.age")
	scryptKeyFile(t, enc, c.Identity, c.Passphrase)
	ids, err := (&keysource.File{Path: enc, Getenv: getenv(map[string]string{"AUTHVAULT_PASSPHRASE": c.Passphrase})}).Identities(ctx)
	if err != nil || len(ids) != 1 {
		t.Errorf("passphrase-protected key file: %v", err)
	}
	_, err = (&keysource.File{Path: enc, Getenv: getenv(map[string]string{"AUTHVAULT_PASSPHRASE": "cnry-wrong-" + c.Passphrase})}).Identities(ctx)
	if !errors.Is(err, keysource.ErrIncorrectPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	c.checkErr(t, "wrong passphrase", err)
	_, err = (&keysource.File{Path: enc, Getenv: getenv(nil), Prompt: func(string) ([]byte, error) { return nil, keysource.ErrNoPassphrase }}).Identities(ctx)
	if !errors.Is(err, keysource.ErrNoPassphrase) {
		t.Errorf("no passphrase: %v", err)
	}
}

// Key sources fail without quoting the key: a malformed AUTHVAULT_KEY, a
// key command that fails (even one that prints the key on its standard
// error), a key file others can read, a wrong passphrase.
func TestCanaryKeySources(t *testing.T) {
	ctx := context.Background()
	c := newCanaries(t)
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.txt")
	os.WriteFile(loose, []byte(c.Identity+"\n"), 0o644)
	enc := filepath.Join(dir, "key.age")
	scryptKeyFile(t, enc, c.Identity, c.Passphrase)
	typo := []byte(c.Identity)
	typo[len(typo)-3] ^= 0x01
	script := filepath.Join(dir, "keycmd.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$KEYCMD_OUT\"\necho \"$KEYCMD_ERR\" >&2\nexit \"$KEYCMD_EXIT\"\n"), 0o700)
	cases := map[string]map[string]string{
		"AUTHVAULT_KEY with a typo":           {"AUTHVAULT_KEY": string(typo)},
		"AUTHVAULT_KEY lower case with typo":  {"AUTHVAULT_KEY": strings.ToLower(string(typo))},
		"AUTHVAULT_KEY with trailing garbage": {"AUTHVAULT_KEY": c.Identity + "x" + c.APIKey},
		"AUTHVAULT_KEY an X25519 lookalike":   {"AUTHVAULT_KEY": "AGE-SECRET-KEY-1" + strings.ToUpper(c.APIKey)},
		"AUTHVAULT_KEY an API key":            {"AUTHVAULT_KEY": c.APIKey},
		"AUTHVAULT_KEY second line bad":       {"AUTHVAULT_KEY": c.Identity + "\n" + string(typo) + "\n"},
		"AUTHVAULT_KEY a recipient":           {"AUTHVAULT_KEY": c.Recipient + c.APIKey},
		"key and command both set":            {"AUTHVAULT_KEY": c.Identity, "AUTHVAULT_KEY_CMD": "echo " + c.Identity},
		"key file others can read":            {"AUTHVAULT_KEY_FILE": loose},
		"wrong passphrase":                    {"AUTHVAULT_KEY_FILE": enc, "AUTHVAULT_PASSPHRASE": "cnry-wrong-" + c.Passphrase},
		"key command not found":               {"AUTHVAULT_KEY_CMD": "/nonexistent/keytool --password " + c.Passphrase + " " + c.Identity},
		"key command prints the key on stderr and fails": {"AUTHVAULT_KEY_CMD": script,
			"KEYCMD_OUT": c.Identity, "KEYCMD_ERR": "error: could not unlock " + c.Identity, "KEYCMD_EXIT": "3"},
		"key command prints the key lower case on stderr": {"AUTHVAULT_KEY_CMD": script,
			"KEYCMD_ERR": strings.ToLower(c.Identity), "KEYCMD_EXIT": "1"},
		"key command prints a bad key":              {"AUTHVAULT_KEY_CMD": script, "KEYCMD_OUT": string(typo), "KEYCMD_EXIT": "0"},
		"key command with the key in its arguments": {"AUTHVAULT_KEY_CMD": "/bin/sh -c 'exit 4' " + c.Identity},
		"key command unterminated quote":            {"AUTHVAULT_KEY_CMD": "'" + c.Identity},
	}
	for name, env := range cases {
		for k, v := range env {
			if strings.HasPrefix(k, "KEYCMD_") {
				t.Setenv(k, v)
			}
		}
		src := &keysource.Env{Getenv: getenv(env), Prompt: func(string) ([]byte, error) { return nil, keysource.ErrNoPassphrase }, CommandTimeout: 30 * time.Second}
		_, err := src.Identities(ctx)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		c.checkErr(t, name, err)
		chain := &keysource.Chain{Sources: []keysource.Source{src}}
		_, _, err = chain.Resolve(ctx)
		c.checkErr(t, name+" (chain)", err)
		c.check(t, name+" (%+v)", fmt.Sprintf("%+v %#v", err, err))
		for _, k := range []string{"KEYCMD_OUT", "KEYCMD_ERR", "KEYCMD_EXIT"} {
			os.Unsetenv(k)
		}
	}
}
