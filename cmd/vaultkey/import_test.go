package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// backupOf exports the sandbox's vault to a file encrypted to a new X25519
// key and returns the file and the identity file that opens it.
func backupOf(t *testing.T, s *sandbox, extra ...string) (backup, idPath string) {
	t.Helper()
	idPath, recipient, _ := x25519(t, s.root)
	backup = filepath.Join(s.root, "backup-"+filepath.Base(idPath)+".age")
	s.run(0, append([]string{"export", "-r", recipient, "-o", backup}, extra...)...)
	return backup, idPath
}

func TestImportIntoEmptyDirRecreatesVault(t *testing.T) {
	t.Parallel()
	s := exportSandbox(t)
	backup, idPath := backupOf(t, s)
	want := allRecords(t, openVault(t, s.dir, s.identitiesFromFile()))

	for _, tc := range []struct {
		name  string
		setup func(dir string)
	}{
		{"missing", func(string) {}},
		{"empty", func(dir string) { os.MkdirAll(dir, 0o700) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(s.root, "restored-"+tc.name)
			tc.setup(dir)
			// Flags after the file, and --dir after the positional too.
			r := s.run(0, "import", backup, "--dir", dir, "-i", idPath)
			if !strings.Contains(r.stdout, "2 added, 0 updated, 0 unchanged, 0 removed") {
				t.Errorf("import output:\n%s", r)
			}
			// The key file already holds the backup's key: reused.
			if !strings.Contains(r.stdout, "the key file "+s.keyFile()+" already holds the backup's key") {
				t.Errorf("the existing key file was not reused:\n%s", r)
			}
			got := allRecords(t, openVault(t, dir, s.identitiesFromFile()))
			if d := diffRecords(want, got); d != "" {
				t.Errorf("restored records differ (-original +restored):\n%s", d)
			}
			s.run(0, "--dir", dir, "status")
		})
	}
}

func TestImportIntoNewMachine(t *testing.T) {
	t.Parallel()
	s := exportSandbox(t)
	backup, idPath := backupOf(t, s)
	want := allRecords(t, openVault(t, s.dir, s.identitiesFromFile()))
	keyText, _ := os.ReadFile(s.keyFile())

	// Another user: no vault, no key file. The backup's key goes to the
	// key file (no keyring here).
	u := newSandbox(t)
	u.addSecret("sk-canary-openai-0123456789")
	u.initFileSecretsFrom(string(keyText))
	r := u.run(0, "import", "-i", idPath, backup)
	if !strings.Contains(r.stdout, "key stored in file "+u.keyFile()) {
		t.Errorf("import on a new machine:\n%s", r)
	}
	got := allRecords(t, openVault(t, u.dir, u.identitiesFromFile()))
	if d := diffRecords(want, got); d != "" {
		t.Errorf("restored records differ:\n%s", d)
	}

	// With AUTHVAULT_KEY set to the same key: nothing to print or store.
	e := newSandbox(t)
	e.initFileSecretsFrom(string(keyText))
	var key string
	for _, l := range strings.Split(string(keyText), "\n") {
		if strings.HasPrefix(l, "AGE-") {
			key = l
		}
	}
	e.env["AUTHVAULT_KEY"] = key
	r = e.run(0, "import", "-i", idPath, backup)
	if strings.Contains(r.stdout, "AUTHVAULT_KEY=") || !strings.Contains(r.stdout, "the environment already holds the backup's key") {
		t.Errorf("import with the same AUTHVAULT_KEY:\n%s", r)
	}
	e.run(0, "status")
	if _, err := os.Stat(e.keyFile()); !os.IsNotExist(err) {
		t.Error("import stored a key file although AUTHVAULT_KEY holds the key")
	}

	// A backup without the key gets a new one, printed for the environment.
	nokey, idPath2 := backupOf(t, s, "--no-key")
	n := newSandbox(t)
	n.addSecret("sk-canary-openai-0123456789")
	r = n.runWith(runOpts{stdoutMayKey: true}, "import", nokey, "-i", idPath2, "--key-store", "env")
	if r.code != 0 {
		t.Fatal(r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "AUTHVAULT_KEY=AGE-SECRET-KEY-PQ-1") {
		t.Fatalf("import --no-key backup, env store: stdout:\n%s", r.stdout)
	}
	newKey := strings.TrimPrefix(lines[0], "AUTHVAULT_KEY=")
	n.addSecret(newKey)
	if strings.Contains(string(keyText), newKey) {
		t.Error("a backup without a key was restored with the old key")
	}
	n.env["AUTHVAULT_KEY"] = newKey
	n.run(0, "status")
}

// initFileSecretsFrom registers the identities in an identity file's text.
func (s *sandbox) initFileSecretsFrom(text string) {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "AGE-") {
			s.addSecret(l)
		}
	}
}

func TestImportRejectsDamagedBackups(t *testing.T) {
	t.Parallel()
	s := exportSandbox(t)
	backup, idPath := backupOf(t, s)
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	// Change what the backup would restore, so that an import that did
	// anything would show.
	s.addKey("google", "extra", "AIza-canary-extra")
	s.run(0, "accounts", "rm", "openai/default/work")

	lines := strings.Split(string(raw), "\n")
	mid := len(lines) / 2
	flip := func(s string) string {
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tampered := append([]string(nil), lines...)
	tampered[mid] = flip(tampered[mid])
	cases := map[string]string{
		"truncated":         string(raw[:len(raw)*2/3]),
		"truncated-at-line": strings.Join(lines[:mid], "\n") + "\n-----END AGE ENCRYPTED FILE-----\n",
		"tampered":          strings.Join(tampered, "\n"),
		"empty":             "",
		"garbage":           "this is not a backup\n",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(s.root, "damaged-"+name+".age")
			os.WriteFile(path, []byte(content), 0o600)

			before := snapshot(t, s.dir)
			for _, mode := range [][]string{{"--merge"}, {"--replace"}} {
				r := s.run(1, append([]string{"import", path, "-i", idPath}, mode...)...)
				if !strings.Contains(r.stderr, "nothing was changed") {
					t.Errorf("%s %v:\n%s", name, mode, r)
				}
			}
			if d := keysDiff(before, snapshot(t, s.dir)); d != "" {
				t.Errorf("a damaged backup changed the vault: %s", d)
			}
			fresh := filepath.Join(s.root, "fresh-"+name)
			s.run(1, "--dir", fresh, "import", path, "-i", idPath)
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("a damaged backup created %s", fresh)
			}
		})
	}
}

func TestImportMergeReplaceDryRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := exportSandbox(t)
	backup, idPath := backupOf(t, s)
	ids := s.identitiesFromFile()
	original := allRecords(t, openVault(t, s.dir, ids))

	// After the backup: one account changed (newer), one removed, one added.
	s.run(0, "accounts", "rm", "anthropic/team/me@example.com")
	s.run(0, "accounts", "rm", "openai/default/work")
	s.addKey("openai", "work", "sk-canary-newer-key")
	s.addKey("google", "extra", "AIza-canary-extra")

	// --dry-run changes nothing, whatever the mode.
	before := snapshot(t, s.dir)
	r := s.run(0, "import", "--dry-run", backup, "-i", idPath, "--replace")
	if !strings.Contains(r.stdout, "dry run, nothing changed") || !strings.Contains(r.stdout, "1 added, 1 updated, 0 unchanged, 1 removed") {
		t.Errorf("dry run --replace:\n%s", r)
	}
	r = s.run(0, "import", backup, "--dry-run", "-i", idPath)
	if !strings.Contains(r.stdout, "1 added, 0 updated, 1 unchanged, 0 removed") {
		t.Errorf("dry run --merge:\n%s", r)
	}
	if d := keysDiff(before, snapshot(t, s.dir)); d != "" {
		t.Errorf("--dry-run changed the vault: %s", d)
	}

	// --merge: the missing account comes back, the newer one stays, the
	// extra one stays.
	r = s.run(0, "import", backup, "-i", idPath)
	if !strings.Contains(r.stdout, "1 added, 0 updated, 1 unchanged, 0 removed") || !strings.Contains(r.stderr, "newer") {
		t.Errorf("merge:\n%s", r)
	}
	v := openVault(t, s.dir, ids)
	got, err := v.Get(ctx, records.ID{Provider: "openai", Namespace: "default", Label: "work"})
	if err != nil || got.API.Key.Reveal() != "sk-canary-newer-key" {
		t.Errorf("merge replaced a newer record: %v", err)
	}
	if _, err := v.Get(ctx, records.ID{Provider: "anthropic", Namespace: "team", Label: "me@example.com"}); err != nil {
		t.Errorf("merge did not restore a missing record: %v", err)
	}
	// A second merge is a no-op.
	if r := s.run(0, "import", backup, "-i", idPath); !strings.Contains(r.stdout, "0 added, 0 updated, 2 unchanged, 0 removed") {
		t.Errorf("second merge:\n%s", r)
	}

	// --replace: the vault becomes the backup.
	r = s.run(0, "import", backup, "-i", idPath, "--replace")
	if !strings.Contains(r.stdout, "0 added, 1 updated, 1 unchanged, 1 removed") {
		t.Errorf("replace:\n%s", r)
	}
	v = openVault(t, s.dir, ids)
	if d := diffRecords(original, allRecords(t, v)); d != "" {
		t.Errorf("after --replace the vault differs from the backup (-backup +vault):\n%s", d)
	}
	entries, _ := v.List(ctx, vault.Filter{Provider: "google"})
	if len(entries) != 0 {
		t.Errorf("--replace kept %d extra records", len(entries))
	}
	s.run(0, "status")
}

func TestImportWithVaultKeyAndPassphrase(t *testing.T) {
	t.Parallel()
	s := exportSandbox(t)
	// A backup encrypted to the vault's own key imports without -i.
	r := s.run(0, "recipients", "list", "--full")
	recipient := strings.TrimSpace(r.stdout)
	backup := filepath.Join(s.root, "self.age")
	s.run(0, "export", "--no-key", "-r", recipient, "-o", backup)
	if r := s.run(0, "import", backup); !strings.Contains(r.stdout, "2 unchanged") {
		t.Errorf("import with the vault key:\n%s", r)
	}

	// A passphrase backup needs the passphrase.
	pass := map[string]string{"AUTHVAULT_PASSPHRASE": "a long enough passphrase"}
	pbackup := filepath.Join(s.root, "pass.age")
	if r := s.runWith(runOpts{env: pass}, "export", "-p", "-o", pbackup); r.code != 0 {
		t.Fatal(r)
	}
	if r := s.run(1, "import", pbackup); !strings.Contains(r.stderr, "AUTHVAULT_PASSPHRASE") {
		t.Errorf("import of a passphrase backup without one:\n%s", r)
	}
	wrong := map[string]string{"AUTHVAULT_PASSPHRASE": "wrong"}
	if r := s.runWith(runOpts{env: wrong}, "import", pbackup); r.code != 1 || !strings.Contains(r.stderr, "incorrect passphrase") {
		t.Errorf("import with a wrong passphrase:\n%s", r)
	}
	if r := s.runWith(runOpts{env: pass}, "import", pbackup); r.code != 0 || !strings.Contains(r.stdout, "2 unchanged") {
		t.Errorf("import with the passphrase:\n%s", r)
	}
}

func TestImportRestoresLostKey(t *testing.T) {
	t.Parallel()
	s := exportSandbox(t)
	backup, idPath := backupOf(t, s, "--key-only")
	keyText, _ := os.ReadFile(s.keyFile())
	os.Remove(s.keyFile())
	if r := s.run(1, "status"); !strings.Contains(r.stderr, "no vault key") {
		t.Fatalf("status without the key file:\n%s", r)
	}
	if r := s.run(1, "import", backup, "-i", idPath, "--replace"); !strings.Contains(r.stderr, "only a key") {
		t.Errorf("--replace with a key-only backup:\n%s", r)
	}
	r := s.run(0, "import", backup, "-i", idPath)
	if !strings.Contains(r.stdout, "restored it from the backup into file "+s.keyFile()) {
		t.Errorf("import of a key-only backup:\n%s", r)
	}
	after, _ := os.ReadFile(s.keyFile())
	if !strings.Contains(string(after), strings.TrimSpace(lastIdentityLine(string(keyText)))) {
		t.Error("the restored key file holds another key")
	}
	s.run(0, "status")
}

func lastIdentityLine(text string) string {
	var out string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "AGE-") {
			out = l
		}
	}
	return out
}

func TestImportUsage(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.run(2, "import")
	s.run(2, "import", "a", "b")
	s.run(2, "import", "a", "--merge", "--replace")
	s.run(2, "import", "a", "--key-store", "cloud")
	if r := s.run(1, "import", filepath.Join(s.root, "missing.age")); !strings.Contains(r.stderr, "missing.age") {
		t.Errorf("import of a missing file:\n%s", r)
	}
}
