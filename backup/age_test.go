package backup

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
)

// What Encrypt writes, the age command decrypts with nothing but the key,
// and what age encrypts, Decrypt reads: the format is age's, not ours.
func TestAgeCommandInterop(t *testing.T) {
	ageBin, err := exec.LookPath("age")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the age command must be installed in CI")
		}
		t.Skip("the age command is not installed (apt install age)")
	}
	id := testIdentity(t)
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &Bundle{VaultID: "v1", Exported: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Records: testRecords(), HasRecords: true}
	plain, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := Encrypt(&file, plain, []age.Recipient{id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ageBin, "-d", "-i", keyFile)
	cmd.Stdin = bytes.NewReader(file.Bytes())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("age -d: %v", err)
	}
	if !bytes.Equal(out, plain) {
		t.Fatal("age -d does not give back the plaintext")
	}

	cmd = exec.Command(ageBin, "-e", "-r", id.Recipient().String())
	cmd.Stdin = bytes.NewReader(plain)
	enc, err := cmd.Output()
	if err != nil {
		t.Fatalf("age -e: %v", err)
	}
	dec, err := Decrypt(bytes.NewReader(enc), id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(dec)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(b, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
