package backup

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
)

func testRecords() []*records.Record {
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	return []*records.Record{
		{Provider: "anthropic", Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
			OAuth: &records.OAuth{Access: "at-<&>-secret", Refresh: "rt-secret", Expiry: t0.Add(time.Hour), Scopes: []string{"a"}},
			Meta:  map[string]string{"plan": "max"}, Created: t0, Updated: t0.Add(time.Minute), Generation: 3},
		{Provider: "openai", Namespace: "work", Label: "team", Kind: records.KindAPI,
			API: &records.APIKey{Key: "sk-secret"}, Created: t0, Updated: t0, Generation: 1},
	}
}

func testIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestBundleRoundTrip(t *testing.T) {
	id := testIdentity(t)
	for _, b := range []*Bundle{
		{VaultID: "v1", Exported: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Identity: id.String(), Records: testRecords(), HasRecords: true},
		{VaultID: "v1", Exported: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Identity: id.String()},
		{VaultID: "v1", Exported: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), HasRecords: true, Records: testRecords()},
		{VaultID: "v1", Exported: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), HasRecords: true},
	} {
		data, err := Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(data)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(b)): %v\n%s", err, data)
		}
		if d := cmp.Diff(b, got); d != "" && !(len(b.Records) == 0 && len(got.Records) == 0 && b.HasRecords == got.HasRecords) {
			t.Errorf("round trip (-want +got):\n%s", d)
		}
		if b.Identity == "" && bytes.Contains(data, []byte(`"identity"`)) {
			t.Error("a bundle without a key has an identity field")
		}
		if !b.HasRecords && bytes.Contains(data, []byte(`"records"`)) {
			t.Error("a key-only bundle has a records field")
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good, err := Marshal(&Bundle{VaultID: "v", Exported: time.Unix(0, 0), Records: testRecords(), HasRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := records.Marshal(testRecords()[1])
	for name, data := range map[string]string{
		"truncated":        string(good[:len(good)/2]),
		"empty":            "",
		"not json":         "sk-secret-looking garbage",
		"trailing":         string(good) + "{}",
		"unknown field":    `{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00Z","records":[],"extra":1}`,
		"wrong format":     `{"format":"something/1","vault_id":"v","exported":"2025-01-01T00:00:00Z","records":[]}`,
		"newer format":     `{"format":"authvault-backup/2","vault_id":"v","exported":"2025-01-01T00:00:00Z","records":[]}`,
		"no vault id":      `{"format":"authvault-backup/1","vault_id":"","exported":"2025-01-01T00:00:00Z","records":[]}`,
		"bad time":         `{"format":"authvault-backup/1","vault_id":"v","exported":"yesterday","records":[]}`,
		"nothing":          `{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00Z"}`,
		"bad identity":     `{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00Z","identity":"AGE-SECRET-KEY-1NOPE"}`,
		"empty identity":   `{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00Z","identity":""}`,
		"duplicate record": `{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00Z","records":[` + string(rec) + `,` + string(rec) + `]}`,
		"non-canonical":    `{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00Z","records":[` + strings.Replace(string(rec), `{"v":1,`, `{ "v":1,`, 1) + `]}`,
		"invalid record":   `{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00Z","records":[{"v":1}]}`,
		"records null":     `{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00Z","records":null}`,
	} {
		_, err := Unmarshal([]byte(data))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
			continue
		}
		if strings.Contains(err.Error(), "sk-secret") || strings.Contains(err.Error(), "NOPE") {
			t.Errorf("%s: the error quotes the input: %v", name, err)
		}
	}
}

func TestEncryptDecrypt(t *testing.T) {
	id := testIdentity(t)
	plain := []byte(`{"hello":"world"}`)
	var buf bytes.Buffer
	if err := Encrypt(&buf, plain, []age.Recipient{id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	armored := buf.Bytes()
	got, err := Decrypt(bytes.NewReader(armored), id)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
	// Binary (unarmored) age files decrypt too.
	var bin bytes.Buffer
	w, _ := age.Encrypt(&bin, id.Recipient())
	w.Write(plain)
	w.Close()
	if got, err := Decrypt(&bin, id); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("binary: %q, %v", got, err)
	}

	other := testIdentity(t)
	if _, err := Decrypt(bytes.NewReader(armored), other); err == nil || !strings.Contains(err.Error(), "-i") {
		t.Errorf("wrong identity: %v", err)
	}
	lines := strings.Split(string(armored), "\n")
	for name, data := range map[string]string{
		"truncated":  string(armored[:len(armored)-40]),
		"tampered":   strings.Join(append(append([]string{}, lines[:2]...), append([]string{strings.ToUpper(lines[2])}, lines[3:]...)...), "\n"),
		"not age":    "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQ\n",
		"empty file": "",
	} {
		_, err := Decrypt(strings.NewReader(data), id)
		if err == nil {
			t.Errorf("%s: decrypted", name)
			continue
		}
		if strings.Contains(err.Error(), "QQQQ") {
			t.Errorf("%s: the error quotes the input: %v", name, err)
		}
	}
}

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
	keyFile, err := os.CreateTemp(t.TempDir(), "key")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyFile.WriteString(id.String() + "\n"); err != nil {
		t.Fatal(err)
	}
	keyFile.Close()
	b := &Bundle{VaultID: "v1", Exported: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Records: testRecords(), HasRecords: true}
	plain, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := Encrypt(&file, plain, []age.Recipient{id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ageBin, "-d", "-i", keyFile.Name())
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
