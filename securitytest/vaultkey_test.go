//go:build unix

package securitytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/authvault/authvault/keysource"
)

// buildVaultkey builds cmd/vaultkey, or skips when it is not there yet.
func buildVaultkey(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join("..", "cmd", "vaultkey", "main.go")); err != nil {
		t.Skip("cmd/vaultkey does not exist")
	}
	bin := filepath.Join(t.TempDir(), "vaultkey")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/vaultkey")
	cmd.Dir = ".."
	cmd.Env = origEnv
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cmd/vaultkey does not build: %v\n%s", err, out)
	}
	return bin
}

// vaultkey runs the command with the vault key in AUTHVAULT_KEY (when key
// is set), stdin as its standard input, and returns exit code and output.
func vaultkey(t *testing.T, bin, key, stdin string, extraEnv []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"HOME=" + os.Getenv("HOME"), "XDG_CONFIG_HOME=" + os.Getenv("XDG_CONFIG_HOME"),
		"XDG_DATA_HOME=" + os.Getenv("XDG_DATA_HOME"), "PATH=" + os.Getenv("PATH")}, extraEnv...)
	if key != "" {
		cmd.Env = append(cmd.Env, "AUTHVAULT_KEY="+key)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("vaultkey %v did not finish", args)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// passphraseFile encrypts plaintext with a passphrase, armored.
func passphraseFile(t *testing.T, path string, plaintext []byte, passphrase string) {
	t.Helper()
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	var b bytes.Buffer
	aw := armor.NewWriter(&b)
	w, _ := age.Encrypt(aw, r)
	w.Write(plaintext)
	w.Close()
	aw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// backupBundle is the plaintext of a vaultkey export.
type backupBundle struct {
	Format   string            `json:"format"`
	VaultID  string            `json:"vault_id"`
	Exported string            `json:"exported"`
	Identity *string           `json:"identity"`
	Records  []json.RawMessage `json:"records"`
}

func decryptBackup(t *testing.T, path, passphrase string) backupBundle {
	t.Helper()
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	data := readFile(t, path)
	if !bytes.HasPrefix(data, []byte(armor.Header)) {
		t.Fatalf("%s is not an armored age file", path)
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(data)), id)
	if err != nil {
		t.Fatal(err)
	}
	var b backupBundle
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

// The vaultkey command fails without printing a secret: with the wrong
// key, on a tampered vault, on a bad backup to import, and on an API key
// it refuses; and its normal output holds none either.
func TestCanaryVaultkey(t *testing.T) {
	bin := buildVaultkey(t)
	f := newFixture(t)
	f.v.Close()
	_, wrongEnc, _, _ := keysource.GenerateIdentity(keysource.PostQuantum)
	f.c.add("the wrong key", strings.TrimPrefix(wrongEnc, "AGE-SECRET-KEY-PQ-1"))
	dir := f.dir
	pass := []string{"AUTHVAULT_PASSPHRASE=" + f.c.Passphrase}
	run := func(what, key, stdin string, env []string, wantFail bool, args ...string) string {
		t.Helper()
		code, stdout, stderr := vaultkey(t, bin, key, stdin, env, args...)
		if os.Getenv("SECURITYTEST_SHOW") != "" { // to read what vaultkey says
			t.Logf("%s: exit %d\n%s%s", what, code, stdout, stderr)
		}
		if wantFail && code == 0 || !wantFail && code != 0 {
			t.Errorf("%s: exit %d\n%s\n%s", what, code, stdout, stderr)
		}
		f.c.check(t, what+" stdout", stdout)
		f.c.check(t, what+" stderr", stderr)
		return stdout + stderr
	}

	// Normal output.
	run("status", f.c.Identity, "", nil, false, "--dir", dir, "status")
	run("status --json", f.c.Identity, "", nil, false, "--dir", dir, "status", "--json")
	run("accounts list", f.c.Identity, "", nil, false, "--dir", dir, "accounts", "list")
	run("accounts list --json", f.c.Identity, "", nil, false, "--dir", dir, "accounts", "list", "--json")
	backup := filepath.Join(t.TempDir(), "backup.age")
	run("export", f.c.Identity, "", pass, false, "--dir", dir, "export", "--passphrase", "-o", backup)
	f.c.check(t, "the exported file", string(readFile(t, backup)))
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode: %v %v", fi.Mode(), err)
	}
	bundle := decryptBackup(t, backup, f.c.Passphrase)
	if bundle.Format != "authvault-backup/1" || bundle.Identity == nil || !strings.Contains(*bundle.Identity, f.c.Identity) || len(bundle.Records) != 3 {
		t.Errorf("the backup holds format %q, identity %v, %d records", bundle.Format, bundle.Identity != nil, len(bundle.Records))
	}
	noKey := filepath.Join(t.TempDir(), "records.age")
	run("export --no-key", f.c.Identity, "", pass, false, "--dir", dir, "export", "--passphrase", "--no-key", "-o", noKey)
	if b := decryptBackup(t, noKey, f.c.Passphrase); b.Identity != nil || len(b.Records) != 3 {
		t.Errorf("--no-key backup: identity %v, %d records", b.Identity != nil, len(b.Records))
	}
	keyOnly := filepath.Join(t.TempDir(), "key.age")
	run("export --key-only", f.c.Identity, "", pass, false, "--dir", dir, "export", "--passphrase", "--key-only", "-o", keyOnly)
	if b := decryptBackup(t, keyOnly, f.c.Passphrase); b.Identity == nil || b.Records != nil {
		t.Errorf("--key-only backup: identity %v, records %v", b.Identity != nil, b.Records != nil)
	}

	// The wrong key.
	for _, args := range [][]string{{"status"}, {"accounts", "list"}, {"export", "--passphrase", "-o", filepath.Join(t.TempDir(), "x")}} {
		run("wrong key: "+strings.Join(args, " "), wrongEnc, "", pass, true, append([]string{"--dir", dir}, args...)...)
	}
	run("malformed key", f.c.Identity[:len(f.c.Identity)-4]+"qqqq", "", nil, true, "--dir", dir, "status")

	// Adding an API key from standard input.
	run("add-key", f.c.Identity, "sk-cnry-added-"+randHex(8), nil, false, "--dir", dir, "accounts", "add-key", "openai", "--label", "added")
	for name, key := range map[string]string{
		"control character": f.c.APIKey + "\x01" + f.c.APIKey,
		"space inside":      f.c.APIKey + " " + f.c.APIKey,
		"two lines":         f.c.APIKey + "\n" + f.c.APIKey + "\n",
		"not UTF-8":         f.c.APIKey + "\xff",
	} {
		run("add-key with a "+name, f.c.Identity, key, nil, true, "--dir", dir, "accounts", "add-key", "openai", "--label", "bad-"+strings.ReplaceAll(name, " ", "-"))
	}
	run("add-key of an existing label", f.c.Identity, f.c.APIKey, nil, true, "--dir", dir, "accounts", "add-key", "openai", "--label", "bob@example.com")

	// Bad backups to import.
	tmp := t.TempDir()
	bundles := map[string]string{
		"syntax error after a token": fmt.Sprintf(`{"format":"authvault-backup/1","vault_id":"x","exported":"2026-01-01T00:00:00Z","identity":%q "records":[]}`, f.c.Identity),
		"unknown field":              fmt.Sprintf(`{"format":"authvault-backup/1","vault_id":"x","exported":"2026-01-01T00:00:00Z","identity":%q,"secret":%q}`, f.c.Identity, f.c.APIKey),
		"bad identity":               fmt.Sprintf(`{"format":"authvault-backup/1","vault_id":"x","exported":"2026-01-01T00:00:00Z","identity":%q}`, f.c.Identity[:len(f.c.Identity)-3]+"zzz"),
		"record not canonical":       fmt.Sprintf(`{"format":"authvault-backup/1","vault_id":"x","exported":"2026-01-01T00:00:00Z","records":[{"v":1, "provider":"openai","namespace":"default","label":"x","kind":"api","api":{"key":%q},"generation":1}]}`, f.c.APIKey),
		"record of the wrong type":   fmt.Sprintf(`{"format":"authvault-backup/1","vault_id":"x","exported":"2026-01-01T00:00:00Z","records":[{"v":1,"provider":"openai","namespace":"default","label":"x","kind":"api","api":{"key":[%q]},"generation":1}]}`, f.c.APIKey),
		"record with a bad token":    fmt.Sprintf(`{"format":"authvault-backup/1","vault_id":"x","exported":"2026-01-01T00:00:00Z","records":[{"v":1,"provider":"anthropic","namespace":"default","label":"x","kind":"oauth","oauth":{"access":%q,"refresh":%q,"expiry":%q},"generation":1}]}`, f.c.Access, f.c.Refresh, f.c.APIKey),
	}
	for name, bundle := range bundles {
		p := filepath.Join(tmp, strings.ReplaceAll(name, " ", "-")+".age")
		passphraseFile(t, p, []byte(bundle), f.c.Passphrase)
		run("import "+name, "", "", pass, true, "--dir", filepath.Join(tmp, "new-"+filepath.Base(p)), "import", p, "--key-store", "env")
		run("import "+name+" into the vault", f.c.Identity, "", pass, true, "--dir", dir, "import", p)
	}
	plain := filepath.Join(tmp, "plain.json")
	os.WriteFile(plain, []byte(bundles["unknown field"]), 0o600)
	run("import of a plaintext file", "", "", pass, true, "--dir", filepath.Join(tmp, "new-plain"), "import", plain, "--key-store", "env")
	good := readFile(t, backup)
	truncated := filepath.Join(tmp, "truncated.age")
	os.WriteFile(truncated, good[:len(good)*2/3], 0o600)
	run("import of a truncated backup", "", "", pass, true, "--dir", filepath.Join(tmp, "new-truncated"), "import", truncated, "--key-store", "env")
	run("import with the wrong passphrase", "", "", []string{"AUTHVAULT_PASSPHRASE=cnry-wrong-" + f.c.Passphrase}, true,
		"--dir", filepath.Join(tmp, "new-wrongpass"), "import", backup, "--key-store", "env")

	// A tampered vault.
	rf := onlyFileOf(t, f, idAPI)
	b := readFile(t, rf)
	b[len(b)/2] ^= 1
	writeFile(t, rf, b)
	out := run("status of a tampered vault", f.c.Identity, "", nil, true, "--dir", dir, "status")
	if !strings.Contains(strings.ToLower(out), "tamper") && !strings.Contains(out, "authentication") {
		t.Errorf("status does not report the tampering:\n%s", out)
	}
	run("export of a tampered vault", f.c.Identity, "", pass, true, "--dir", dir, "export", "--passphrase", "-o", filepath.Join(tmp, "t.age"))
	run("accounts list of a tampered vault", f.c.Identity, "", nil, true, "--dir", dir, "accounts", "list")
	os.Truncate(filepath.Join(dir, "manifest.avm"), 10)
	run("status with a truncated manifest", f.c.Identity, "", nil, true, "--dir", dir, "status")
}
