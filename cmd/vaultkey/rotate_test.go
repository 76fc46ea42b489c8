package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/zalando/go-keyring"

	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

type crashPoint struct {
	step      string
	committed bool
}

// crashPoints are the points rotate can be stopped at, in order; the
// vault switches to the new key at "header".
var crashPoints = []crashPoint{
	{"key-staged", false},
	{string(vault.StepRecordsSealed), false},
	{string(vault.StepNextManifest), false},
	{string(vault.StepHeader), true},
	{string(vault.StepManifest), true},
	{string(vault.StepCleaned), true},
	{"before-key-swap", true},
}

// keyStore abstracts where a test's vault key lives, to run the crash
// tests against each store.
type keyStore struct {
	name string
	// sandbox returns a sandbox for the store (or skips).
	sandbox func(t *testing.T) *sandbox
	// init creates the vault and returns its key.
	init func(t *testing.T, s *sandbox) string
	// stored returns the key text the store holds now ("" for the
	// environment, which the test holds), given rotate's stdout.
	stored func(t *testing.T, s *sandbox, rotateStdout string) string
	// printsKey says rotate prints the new key on stdout.
	printsKey bool
}

var keyStores = []keyStore{
	{
		name:    "file",
		sandbox: newSandbox,
		init: func(t *testing.T, s *sandbox) string {
			s.initFile()
			data, _ := os.ReadFile(s.keyFile())
			return string(data)
		},
		stored: func(t *testing.T, s *sandbox, _ string) string {
			data, err := os.ReadFile(s.keyFile())
			if err != nil {
				t.Fatalf("the key file is gone: %v", err)
			}
			return string(data)
		},
	},
	{
		name:    "env",
		sandbox: newSandbox,
		init: func(t *testing.T, s *sandbox) string {
			r := s.runWith(runOpts{stdoutMayKey: true}, "init", "--key-store", "env")
			if r.code != 0 {
				t.Fatal(r)
			}
			key := strings.TrimSpace(strings.TrimPrefix(r.stdout, "AUTHVAULT_KEY="))
			s.addSecret(key)
			s.env["AUTHVAULT_KEY"] = key
			return key
		},
		stored:    func(*testing.T, *sandbox, string) string { return "" },
		printsKey: true,
	},
	{
		name:    "keyring",
		sandbox: newKeyringSandbox,
		init: func(t *testing.T, s *sandbox) string {
			s.run(0, "init", "--key-store", "keyring")
			return keyringEntry(t, s, "")
		},
		stored: func(t *testing.T, s *sandbox, _ string) string {
			if main := keyringEntry(t, s, ""); main != "" {
				return main
			}
			return keyringEntry(t, s, ".next")
		},
	},
}

// keyringEntry reads the vault's keyring entry (suffix "" or ".next")
// with secret-tool, "" when there is none.
func keyringEntry(t *testing.T, s *sandbox, suffix string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reading keyring entries from the outside needs secret-tool")
	}
	id, err := vault.ReadID(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	// secret-tool exits 1 both for "no such entry" and for a Secret Service
	// too busy to answer (many tests talk to it at once): ask again a few
	// times before concluding there is no entry.
	var out []byte
	for try := 0; ; try++ {
		var stderr bytes.Buffer
		cmd := exec.Command("secret-tool", "lookup", "service", s.service, "username", id+suffix)
		cmd.Stderr = &stderr
		out, err = cmd.Output()
		if err == nil {
			break
		}
		if try == 6 {
			// Last, through the Secret Service API the command itself uses.
			v, kerr := keyring.Get(s.service, id+suffix)
			if kerr != nil {
				t.Logf("secret-tool lookup %s%s: %v: %s; go-keyring: %v", id, suffix, err, stderr.String(), kerr)
				return ""
			}
			out = []byte(v)
			break
		}
		time.Sleep(time.Duration(50<<try) * time.Millisecond)
	}
	key := strings.TrimSpace(string(out))
	s.initFileSecretsFrom(key)
	return key
}

func parseIDs(t *testing.T, text string) []age.Identity {
	t.Helper()
	ids, err := keysource.ParseIdentities([]byte(text))
	if err != nil {
		t.Fatalf("not identities: %v", err)
	}
	return ids
}

// opens reports whether ids open the vault in dir.
func opens(dir string, ids []age.Identity) bool {
	v, err := vault.Open(context.Background(), dir, ids)
	if err != nil {
		return false
	}
	v.Close()
	return true
}

// printedKey returns the AUTHVAULT_KEY printed on stdout, or "".
func printedKey(t *testing.T, stdout string) string {
	t.Helper()
	if stdout == "" {
		return ""
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "AUTHVAULT_KEY=AGE-SECRET-KEY-") {
		t.Fatalf("stdout is not one AUTHVAULT_KEY line:\n%s", stdout)
	}
	return strings.TrimPrefix(lines[0], "AUTHVAULT_KEY=")
}

func TestRotateCrashLeavesOpenableVault(t *testing.T) {
	t.Parallel()
	for _, ks := range keyStores {
		points := crashPoints
		if ks.name == "keyring" {
			// The moments the main entry is missing: the pending one serves.
			points = append(slices.Clone(points), crashPoint{"staging-gap", false}, crashPoint{"swap-gap", true})
		}
		for _, cp := range points {
			t.Run(ks.name+"/"+cp.step, func(t *testing.T) {
				t.Parallel()
				s := ks.sandbox(t)
				oldText := ks.init(t, s)
				s.addKey("openai", "work", "sk-canary-rotate-1")
				s.addKey("anthropic", "me", "sk-ant-canary-rotate-2")
				oldIDs := parseIDs(t, oldText)
				want := allRecords(t, openVault(t, s.dir, oldIDs))

				r := s.runWith(runOpts{env: map[string]string{envRotateCrash: cp.step}, stdoutMayKey: ks.printsKey}, "rotate")
				if r.code != 3 {
					t.Fatalf("rotate did not stop at %s: %s", cp.step, r)
				}
				newKey := printedKey(t, r.stdout)
				if ks.printsKey != (newKey != "") {
					t.Fatalf("printed key %v, want %v", newKey != "", ks.printsKey)
				}
				if newKey != "" {
					s.addSecret(newKey)
				}

				// The vault opens with the old key before the commit and
				// with the new one after it.
				if got := opens(s.dir, oldIDs); got != !cp.committed {
					t.Errorf("old key opens the vault: %v, want %v", got, !cp.committed)
				}
				if newKey != "" {
					if got := opens(s.dir, parseIDs(t, newKey)); got != cp.committed {
						t.Errorf("new key opens the vault: %v, want %v", got, cp.committed)
					}
				}
				// The key store holds a key that opens it.
				if stored := ks.stored(t, s, r.stdout); stored != "" {
					s.initFileSecretsFrom(stored)
					if !opens(s.dir, parseIDs(t, stored)) {
						t.Fatalf("the %s store's key does not open the vault", ks.name)
					}
				} else if cp.committed {
					s.env["AUTHVAULT_KEY"] = newKey
				}
				// status passes with the key store's key, and every record
				// is intact.
				r = s.run(0, "status")
				if !strings.Contains(r.stdout, "integrity   ok") {
					t.Errorf("status after a crash at %s:\n%s", cp.step, r.stdout)
				}
				// Where the main keyring entry is missing, the pending one
				// served, and status says a rotation was interrupted.
				if gap := cp.step == "staging-gap" || cp.step == "swap-gap"; gap && !strings.Contains(r.stdout, "interrupted key rotation") {
					t.Errorf("status after a crash at %s does not name the pending entry:\n%s", cp.step, r.stdout)
				}
				ids := oldIDs
				if cp.committed {
					if newKey != "" {
						ids = parseIDs(t, newKey)
					} else {
						ids = parseIDs(t, ks.stored(t, s, ""))
					}
				}
				if d := diffRecords(want, allRecords(t, openVault(t, s.dir, ids))); d != "" {
					t.Errorf("records changed:\n%s", d)
				}

				// A new rotation completes and tidies up.
				r = s.runWith(runOpts{stdoutMayKey: ks.printsKey}, "rotate")
				if r.code != 0 {
					t.Fatalf("rotate after a crash: %s", r)
				}
				finalText := ks.stored(t, s, r.stdout)
				if ks.printsKey {
					finalText = printedKey(t, r.stdout)
					s.addSecret(finalText)
					s.env["AUTHVAULT_KEY"] = finalText
				}
				final := parseIDs(t, finalText)
				if len(final) != 1 {
					t.Errorf("after a completed rotation the store holds %d identities, want 1", len(final))
				}
				if opens(s.dir, oldIDs) {
					t.Error("the original key still opens the vault")
				}
				if d := diffRecords(want, allRecords(t, openVault(t, s.dir, final))); d != "" {
					t.Errorf("records changed:\n%s", d)
				}
				r = s.run(0, "status")
				if !strings.Contains(r.stdout, "integrity   ok (2 records checked, 0 orphaned files)") {
					t.Errorf("status after the second rotation:\n%s", r.stdout)
				}
				if _, err := os.Stat(s.keyFile() + ".new"); !os.IsNotExist(err) {
					t.Errorf("key.txt.new left behind: %v", err)
				}
				if ks.name == "keyring" && keyringEntry(t, s, ".next") != "" {
					t.Error("the pending keyring entry was left behind")
				}
			})
		}
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	for _, ks := range keyStores {
		t.Run(ks.name, func(t *testing.T) {
			t.Parallel()
			s := ks.sandbox(t)
			oldText := ks.init(t, s)
			s.addKey("openai", "work", "sk-canary-rotate-3")
			oldIDs := parseIDs(t, oldText)
			v := openVault(t, s.dir, oldIDs)
			want := allRecords(t, v)
			oldRecipient := v.Recipients()[0]
			// A backup key slot survives the rotation.
			backupID, err := age.GenerateHybridIdentity()
			if err != nil {
				t.Fatal(err)
			}
			backupRecipient := backupID.Recipient().String()
			s.run(0, "recipients", "add", backupRecipient)

			r := s.runWith(runOpts{stdoutMayKey: ks.printsKey}, "rotate")
			if r.code != 0 {
				t.Fatal(r)
			}
			var newText string
			if ks.printsKey {
				newText = printedKey(t, r.stdout)
				s.addSecret(newText)
				if !strings.Contains(r.stderr, "replace AUTHVAULT_KEY") {
					t.Errorf("stderr does not say to replace AUTHVAULT_KEY:\n%s", r.stderr)
				}
				s.env["AUTHVAULT_KEY"] = newText
			} else {
				newText = ks.stored(t, s, "")
				if !strings.Contains(r.stdout, "re-sealed") {
					t.Errorf("rotate output:\n%s", r)
				}
			}
			newIDs := parseIDs(t, newText)
			if len(newIDs) != 1 || !strings.HasPrefix(newText[strings.Index(newText, "AGE-"):], "AGE-SECRET-KEY-PQ-1") {
				t.Errorf("the new key is not one post-quantum identity")
			}
			if opens(s.dir, oldIDs) {
				t.Error("the old key still opens the vault")
			}
			nv := openVault(t, s.dir, newIDs)
			if d := diffRecords(want, allRecords(t, nv)); d != "" {
				t.Errorf("records changed:\n%s", d)
			}
			rs := nv.Recipients()
			if len(rs) != 2 || rs[0] != backupRecipient || rs[1] == oldRecipient {
				t.Errorf("recipients after rotate: %d, backup kept %v", len(rs), len(rs) > 0 && rs[0] == backupRecipient)
			}
			if !opens(s.dir, []age.Identity{backupID}) {
				t.Error("the backup key slot was lost")
			}
			s.run(0, "status")
		})
	}
}

func TestRotateKeepIdentityWhileReading(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	s.addKey("openai", "work", "sk-canary-rotate-4")
	s.addKey("openai", "home", "sk-canary-rotate-5")
	ids := s.identitiesFromFile()
	keyBefore, _ := os.ReadFile(s.keyFile())
	v := openVault(t, s.dir, ids)
	want := allRecords(t, v)

	// A reader in this process keeps reading while vaultkey rotates.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var reads, failures atomic.Int64
	var firstErr atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		id := records.ID{Provider: "openai", Namespace: "default", Label: "work"}
		for ctx.Err() == nil {
			r, err := v.Get(ctx, id)
			if err == nil && r.API.Key.Reveal() != "sk-canary-rotate-4" {
				err = errors.New("wrong record content")
			}
			if err != nil && ctx.Err() == nil {
				failures.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
			reads.Add(1)
		}
	}()
	for range 3 {
		r := s.run(0, "rotate", "--keep-identity")
		if !strings.Contains(r.stdout, "2 record(s) re-sealed; the vault key is unchanged") {
			t.Errorf("rotate --keep-identity:\n%s", r)
		}
	}
	cancel()
	wg.Wait()
	if failures.Load() > 0 {
		t.Errorf("%d of %d reads failed during rotation; first: %v", failures.Load(), reads.Load(), firstErr.Load())
	}
	if keyAfter, _ := os.ReadFile(s.keyFile()); string(keyAfter) != string(keyBefore) {
		t.Error("--keep-identity changed the key file")
	}
	if d := diffRecords(want, allRecords(t, openVault(t, s.dir, ids))); d != "" {
		t.Errorf("records changed:\n%s", d)
	}
	if r := s.run(0, "status"); !strings.Contains(r.stdout, "0 orphaned files") {
		t.Errorf("status:\n%s", r.stdout)
	}
}

func TestRotatePassphraseKeyFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSandbox(t)
	s.initFile("--x25519")
	s.addKey("openai", "work", "sk-canary-rotate-6")
	text, _ := os.ReadFile(s.keyFile())
	os.Remove(s.keyFile())

	// The key moves to a passphrase-protected file named by
	// AUTHVAULT_KEY_FILE.
	const pass = "rotate me gently please"
	path := filepath.Join(s.root, "secrets", "vault.key")
	f := &keysource.File{Path: path, Getenv: func(string) string { return "" }}
	if err := f.StoreEncrypted(ctx, lastIdentityLine(string(text)), pass); err != nil {
		t.Fatal(err)
	}
	s.env["AUTHVAULT_KEY_FILE"] = path
	s.env["AUTHVAULT_PASSPHRASE"] = pass
	r := s.run(0, "status")
	if !strings.Contains(r.stdout, "environment (AUTHVAULT_KEY_FILE "+path+")") {
		t.Errorf("status:\n%s", r.stdout)
	}
	r = s.run(0, "rotate")
	if !strings.Contains(r.stdout, "kept in key file "+path) || !strings.Contains(r.stdout, "new X25519 key") {
		t.Errorf("rotate:\n%s", r)
	}
	raw, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(raw), "-----BEGIN AGE ENCRYPTED FILE-----") {
		t.Fatal("the new key file is not passphrase-protected")
	}
	ids, err := (&keysource.File{Path: path, Getenv: func(k string) string {
		if k == keysource.EnvPassphrase {
			return pass
		}
		return ""
	}}).Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || !opens(s.dir, ids) {
		t.Error("the new key file does not hold the one new key")
	}
	if opens(s.dir, parseIDs(t, string(text))) {
		t.Error("the old key still opens the vault")
	}
	s.run(0, "status")
}
