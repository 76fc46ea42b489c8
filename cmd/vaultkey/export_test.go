package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/authvault/authvault/backup"
)

// bundleJSON is the backup plaintext as a user's tools see it.
type bundleJSON struct {
	Format   string            `json:"format"`
	VaultID  string            `json:"vault_id"`
	Exported string            `json:"exported"`
	Identity *string           `json:"identity"`
	Records  []json.RawMessage `json:"records"`
}

func parseBundleJSON(t *testing.T, data []byte) bundleJSON {
	t.Helper()
	var b bundleJSON
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("the backup's plaintext is not JSON: %v", err)
	}
	return b
}

// exportSandbox is a vault with two accounts and its key in the key file.
func exportSandbox(t *testing.T) *sandbox {
	t.Helper()
	s := newSandbox(t)
	s.initFile()
	s.addKey("openai", "work", "sk-canary-openai-0123456789")
	s.addKey("anthropic", "me@example.com", "sk-ant-canary-abcdef", "--namespace", "team")
	return s
}

func TestExportDecryptsWithAgeCLI(t *testing.T) {
	t.Parallel()
	ageBin := ageBinary(t)
	s := exportSandbox(t)
	idPath, recipient, _ := x25519(t, s.root)
	out := filepath.Join(s.root, "backup.age")
	// Flags after the positional-free command, -r twice (a second, unrelated key).
	_, other, _ := x25519(t, s.root)
	r := s.run(0, "export", "-o", out, "-r", recipient, "--recipient", other)
	if r.stdout != "" || !strings.Contains(r.stderr, "exported 2 record(s) and the vault key") {
		t.Errorf("export output:\n%s", r)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(out)
	if !bytes.HasPrefix(raw, []byte(armor.Header)) {
		t.Fatalf("the backup is not armored:\n%.80s", raw)
	}

	plain, err := exec.Command(ageBin, "-d", "-i", idPath, out).Output()
	if err != nil {
		t.Fatalf("age -d: %v", err)
	}
	b := parseBundleJSON(t, plain)
	keyFile, _ := os.ReadFile(s.keyFile())
	if b.Format != backup.Format || b.Identity == nil || !strings.Contains(string(keyFile), *b.Identity) || len(b.Records) != 2 {
		t.Fatalf("bundle: format %q, identity set %v, %d records", b.Format, b.Identity != nil, len(b.Records))
	}
	if _, err := time.Parse(time.RFC3339, b.Exported); err != nil {
		t.Errorf("exported %q: %v", b.Exported, err)
	}
	v := openVault(t, s.dir, s.identitiesFromFile())
	if b.VaultID != v.ID() {
		t.Errorf("vault id %q, want %q", b.VaultID, v.ID())
	}
	if !strings.Contains(string(plain), `"key":"sk-canary-openai-0123456789"`) {
		t.Error("the backup does not hold the API key")
	}
	parsed, err := backup.Unmarshal(plain)
	if err != nil {
		t.Fatalf("the backup does not parse back: %v", err)
	}
	if d := diffRecords(allRecords(t, v), parsed.Records); d != "" {
		t.Errorf("backup records differ from the vault's (-vault +backup):\n%s", d)
	}

	// --key-only and --no-key.
	for _, tc := range []struct {
		flag        string
		key         bool
		wantRecords bool
	}{{"--key-only", true, false}, {"--no-key", false, true}} {
		out := filepath.Join(s.root, "b"+tc.flag+".age")
		s.run(0, "export", tc.flag, "-r", recipient, "-o", out)
		plain, err := exec.Command(ageBin, "-d", "-i", idPath, out).Output()
		if err != nil {
			t.Fatalf("age -d %s: %v", tc.flag, err)
		}
		var m map[string]json.RawMessage
		json.Unmarshal(plain, &m)
		if _, ok := m["identity"]; ok != tc.key {
			t.Errorf("%s: identity present %v", tc.flag, ok)
		}
		if _, ok := m["records"]; ok != tc.wantRecords {
			t.Errorf("%s: records present %v", tc.flag, ok)
		}
	}
}

func TestExportToStdoutAndRecipientsFile(t *testing.T) {
	t.Parallel()
	s := exportSandbox(t)
	_, recipient, id := x25519(t, s.root)
	rfile := filepath.Join(s.root, "recipients.txt")
	os.WriteFile(rfile, []byte("# backup keys\n\n"+recipient+"\n"), 0o600)
	r := s.runWith(runOpts{stdoutMayKey: true}, "export", "-R", rfile)
	if r.code != 0 {
		t.Fatal(r)
	}
	plain := decryptWith(t, []byte(r.stdout), id)
	if b := parseBundleJSON(t, plain); len(b.Records) != 2 {
		t.Errorf("%d records", len(b.Records))
	}

	// A secret key handed to -R is refused without being printed.
	os.WriteFile(rfile, []byte(id.String()+"\n"), 0o600)
	s.addSecret(id.String())
	if r := s.run(1, "export", "-R", rfile, "-o", filepath.Join(s.root, "x.age")); !strings.Contains(r.stderr, "identity") {
		t.Errorf("-R with an identity:\n%s", r)
	}
}

func decryptWith(t *testing.T, armored []byte, id age.Identity) []byte {
	t.Helper()
	rd, err := age.Decrypt(armor.NewReader(bytes.NewReader(armored)), id)
	if err != nil {
		t.Fatalf("decrypting the backup: %v", err)
	}
	plain, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

func TestExportPassphrase(t *testing.T) {
	t.Parallel()
	s := exportSandbox(t)
	const pass = "correct horse battery staple"
	out := filepath.Join(s.root, "backup.age")
	r := s.runWith(runOpts{env: map[string]string{"AUTHVAULT_PASSPHRASE": pass}}, "export", "--passphrase", "-o", out)
	if r.code != 0 {
		t.Fatal(r)
	}
	raw, _ := os.ReadFile(out)
	id, _ := age.NewScryptIdentity(pass)
	if b := parseBundleJSON(t, decryptWith(t, raw, id)); len(b.Records) != 2 || b.Identity == nil {
		t.Errorf("passphrase backup: %d records, identity %v", len(b.Records), b.Identity != nil)
	}
	wrong, _ := age.NewScryptIdentity("wrong")
	if _, err := age.Decrypt(armor.NewReader(bytes.NewReader(raw)), wrong); err == nil {
		t.Error("a wrong passphrase decrypted the backup")
	}
	// No passphrase in the environment and no terminal: refused.
	if r := s.run(1, "export", "-p", "-o", out+"2"); !strings.Contains(r.stderr, "AUTHVAULT_PASSPHRASE") {
		t.Errorf("export -p without a passphrase:\n%s", r)
	}
	if _, err := os.Stat(out + "2"); !os.IsNotExist(err) {
		t.Error("a failed export left a file")
	}
}

func TestExportUsage(t *testing.T) {
	t.Parallel()
	s := exportSandbox(t)
	_, recipient, _ := x25519(t, s.root)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "-o", "x"}, "say who can read the backup"},
		{[]string{"export", "-r", recipient, "-p", "-o", "x"}, "cannot be combined"},
		{[]string{"export", "-r", recipient, "--key-only", "--no-key", "-o", "x"}, "exclude each other"},
		{[]string{"export", "-r", "age1notarecipient", "-o", "x"}, "not an age recipient"},
		{[]string{"export", "-r", recipient, "stray"}, "unexpected argument"},
	} {
		r := s.run(2, tc.args...)
		if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "usage: vaultkey export") {
			t.Errorf("%v:\n%s", tc.args, r)
		}
	}
}
