package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

func TestParseKeyStore(t *testing.T) {
	for _, s := range []string{"", "keyring", "file", "env"} {
		if got, err := parseKeyStore(s); err != nil || string(got) != s {
			t.Errorf("parseKeyStore(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := parseKeyStore("vault"); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("parseKeyStore(vault): %v", err)
	}
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestKeysNames(t *testing.T) {
	k := &vaultKeys{Getenv: mapEnv(nil)}
	if got := k.Describe(k.Keyring("v")); got != `keyring (service "authvault", account "v")` {
		t.Errorf("default service: %q", got)
	}
	k = &vaultKeys{Getenv: mapEnv(map[string]string{keysource.EnvKeyringService: "svc"})}
	if k.Keyring("v").Service != "svc" || k.Keyring("v").Account != "v" {
		t.Error("keyring entries do not follow the service and vault id")
	}
	pending := &keysource.Keyring{Service: "svc", Account: "v" + keysource.PendingSuffix}
	if got := k.Describe(pending); !strings.Contains(got, "interrupted key rotation") {
		t.Errorf("Describe(pending entry) = %q", got)
	}
	if got := k.Describe(&keysource.File{Path: "/k"}); got != "file /k" {
		t.Errorf("Describe(file) = %q", got)
	}
	// Sources other than the keyring pass through pendingEntry as they are.
	f := &keysource.File{Path: "/k"}
	if k.pendingEntry(context.Background(), f) != f {
		t.Error("pendingEntry changed a file source")
	}
	for env, want := range map[string]string{
		keysource.EnvKey:        "environment (AUTHVAULT_KEY)",
		keysource.EnvKeyFile:    "environment (AUTHVAULT_KEY_FILE /k)",
		keysource.EnvKeyCommand: "environment (AUTHVAULT_KEY_CMD)",
	} {
		k := &vaultKeys{Getenv: mapEnv(map[string]string{env: "/k"})}
		if got := k.Describe(&keysource.Env{}); got != want {
			t.Errorf("Describe(env with %s) = %q", env, got)
		}
	}
}

func TestIdentityHelpers(t *testing.T) {
	pq, _ := age.GenerateHybridIdentity()
	x, _ := age.GenerateX25519Identity()
	back, err := keysource.ParseIdentities([]byte(pq.String() + "\n" + x.String()))
	if err != nil || len(back) != 2 {
		t.Fatalf("the encoding does not parse back: %v", err)
	}
	rs, err := nativeRecipients(back)
	if err != nil || rs[0] != pq.Recipient().String() || rs[1] != x.Recipient().String() {
		t.Errorf("nativeRecipients: %v %v", rs, err)
	}
	scrypt, _ := age.NewScryptIdentity("p")
	if _, err := nativeRecipients([]age.Identity{scrypt}); err == nil {
		t.Error("nativeRecipients of a non-native identity")
	}
}

// TestOpenVault runs without a keyring (a dead session bus) and with the
// key in a key file under a private config directory.
func TestOpenVault(t *testing.T) {
	root := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("HOME", filepath.Join(root, "home"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(root, "no-bus"))
	ctx := context.Background()
	k := &vaultKeys{Getenv: mapEnv(map[string]string{keysource.EnvKeyringService: "authvault-test-openvault"})}
	dir := filepath.Join(root, "vault")

	if _, err := k.OpenVault(ctx, dir); !errors.Is(err, vault.ErrNoVault) || !strings.Contains(err.Error(), "vaultkey init") {
		t.Errorf("no vault: %v", err)
	}
	id, _ := age.GenerateX25519Identity()
	v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	var nk *keysource.NoKeyError
	if _, err := k.OpenVault(ctx, dir); !errors.As(err, &nk) || !nk.Absent() {
		t.Errorf("no key: %v", err)
	}
	if err := k.CheckFree(ctx, storeFile, ""); err != nil {
		t.Errorf("CheckFree of a missing key file: %v", err)
	}
	where, err := k.StoreKey(ctx, storeFile, "ignored", id.String())
	if err != nil || !strings.HasPrefix(where, "file ") {
		t.Fatalf("StoreKey: %q, %v", where, err)
	}
	if err := k.CheckFree(ctx, storeFile, ""); !errors.Is(err, keysource.ErrKeyExists) {
		t.Errorf("CheckFree of an existing key file: %v", err)
	}
	u, err := k.OpenVault(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Source.(*keysource.File); !ok || len(u.Identities) != 1 {
		t.Errorf("opened with %T, %d identities", u.Source, len(u.Identities))
	}
	u.Close()

	// Another key: the error names the source.
	path, _ := k.FilePath()
	os.Remove(path)
	other, _ := age.GenerateX25519Identity()
	k.StoreKey(ctx, storeFile, "", other.String())
	if _, err := k.OpenVault(ctx, dir); !errors.Is(err, vault.ErrWrongKey) || !strings.Contains(err.Error(), "file "+path) {
		t.Errorf("wrong key: %v", err)
	}
	if _, _, err := k.ChooseStore(ctx, storeKeyring); err == nil {
		t.Error("an explicit keyring without a session bus was accepted")
	}
	if got, note, err := k.ChooseStore(ctx, ""); got != storeFile || note == "" || err != nil {
		t.Errorf("ChooseStore without a keyring = %q, %q, %v", got, note, err)
	}
	if _, err := k.StoreKey(ctx, storeEnv, "v", id.String()); err == nil {
		t.Error("StoreKey wrote to the environment")
	}
}

func TestExplainRecipients(t *testing.T) {
	if explainRecipients(nil) != nil {
		t.Error("nil")
	}
	plain := errors.New("other")
	if explainRecipients(plain) != plain {
		t.Error("other errors must pass through")
	}
	mixed := errors.New("incompatible recipients: can't mix post-quantum and classic recipients, or the file would be vulnerable to quantum computers")
	if err := explainRecipients(mixed); !errors.Is(err, mixed) || !strings.Contains(err.Error(), "age1pq1") {
		t.Errorf("explainRecipients: %v", err)
	}
}
