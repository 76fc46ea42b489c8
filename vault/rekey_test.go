package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
)

func fillVault(t *testing.T, tv *testVault, n int) map[records.ID]*records.Record {
	t.Helper()
	want := map[records.ID]*records.Record{}
	for i := 0; i < n; i++ {
		r := mustPut(t, tv.Vault, oauthRecord("anthropic", fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("acc-%d", i), fmt.Sprintf("ref-%d", i)))
		want[r.ID()] = r
	}
	if _, err := tv.UpdateState(context.Background(), "pool", func([]byte) ([]byte, error) { return []byte("state"), nil }); err != nil {
		t.Fatal(err)
	}
	return want
}

func checkContents(t *testing.T, v *Vault, want map[records.ID]*records.Record) {
	t.Helper()
	ctx := context.Background()
	for id, w := range want {
		got, err := v.Get(ctx, id)
		if err != nil {
			t.Fatalf("%v: %v", id, err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Fatalf("%v (-want +got):\n%s", id, diff)
		}
	}
	if st, _, err := v.ReadState(ctx, "pool"); err != nil || string(st) != "state" {
		t.Fatalf("state: %q %v", st, err)
	}
	if _, err := v.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRekeyNewIdentity(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	want := fillVault(t, tv, 5)
	reader := tv.reopen(t) // another process's view, holding the old key
	oldFiles, _ := filepath.Glob(filepath.Join(tv.dir, recordsDir, "*"))
	newID, _ := age.GenerateHybridIdentity()
	if err := tv.Rekey(ctx, []age.Recipient{newID.Recipient()}, RekeyOptions{Identities: []age.Identity{newID}}); err != nil {
		t.Fatal(err)
	}
	checkContents(t, tv.Vault, want)
	if _, err := Open(ctx, tv.dir, []age.Identity{tv.id}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("old identity after rekey: %v", err)
	}
	v, err := Open(ctx, tv.dir, []age.Identity{newID})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	checkContents(t, v, want)
	for _, f := range oldFiles {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("old file %s left behind", f)
		}
	}
	// The reader with only the old key cannot follow: a clear error.
	for id := range want {
		if _, err := reader.Get(ctx, id); !errors.Is(err, ErrWrongKey) {
			// A cached record may still be served from memory; a fresh read must fail.
			if err == nil {
				continue
			}
			t.Fatalf("old reader: %v", err)
		}
	}
}

func TestRekeyKeepIdentityReaderKeepsWorking(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	want := fillVault(t, tv, 3)
	reader := tv.reopen(t)
	checkContents(t, reader, want)
	rcp := tv.id.(*age.X25519Identity).Recipient()
	for i := 0; i < 2; i++ {
		if err := tv.Rekey(ctx, []age.Recipient{rcp}, RekeyOptions{}); err != nil {
			t.Fatal(err)
		}
		checkContents(t, reader, want)
		// And it can write under the new key.
		var id records.ID
		for id = range want {
			break
		}
		r, err := reader.Update(ctx, id, func(r *records.Record) error { r.OAuth.Access += "!"; return nil })
		if err != nil {
			t.Fatal(err)
		}
		want[id] = r
		checkContents(t, tv.Vault, want)
	}
}

func TestRecipients(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	want := fillVault(t, tv, 2)
	backup, _ := age.GenerateX25519Identity()
	if err := tv.AddRecipient(ctx, backup.Recipient()); err != nil {
		t.Fatal(err)
	}
	if err := tv.AddRecipient(ctx, backup.Recipient()); err == nil {
		t.Fatal("adding a recipient twice succeeded")
	}
	if got := tv.Recipients(); len(got) != 2 || got[1] != backup.Recipient().String() {
		t.Fatalf("recipients %v", got)
	}
	vb, err := Open(ctx, tv.dir, []age.Identity{backup})
	if err != nil {
		t.Fatalf("backup key cannot open: %v", err)
	}
	checkContents(t, vb, want)
	vb.Close()
	if err := tv.RemoveRecipient(ctx, backup.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, tv.dir, []age.Identity{backup}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("removed recipient still opens: %v", err)
	}
	checkContents(t, tv.reopen(t), want)
	if err := tv.RemoveRecipient(ctx, tv.Recipients()[0]); err == nil {
		t.Fatal("removed the last recipient")
	}
}

// A rotation interrupted at any step leaves a vault that opens with the old
// or the new key and holds every record.
func TestRekeyCrashAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	steps := []RekeyStep{StepRecordsSealed, StepNextManifest, StepHeader, StepManifest, StepCleaned}
	for _, step := range steps {
		t.Run(string(step), func(t *testing.T) {
			ctx := context.Background()
			tv := newTestVault(t)
			want := fillVault(t, tv, 4)
			newID, _ := age.GenerateX25519Identity()
			cmd := helperCmd(t, tv, "rekey-crash", "AUTHVAULT_VAULT_STEP="+string(step), "AUTHVAULT_VAULT_NEWKEY="+newID.String())
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("helper: %v: %s", err, out)
			}
			v, err := Open(ctx, tv.dir, []age.Identity{tv.id, newID})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			checkContents(t, v, want)
			// Exactly one of the keys opens it.
			_, errOld := Open(ctx, tv.dir, []age.Identity{tv.id})
			_, errNew := Open(ctx, tv.dir, []age.Identity{newID})
			if (errOld == nil) == (errNew == nil) {
				t.Fatalf("old key: %v, new key: %v", errOld, errNew)
			}
			if _, err := v.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
			checkContents(t, v, want)
			// A later rotation completes.
			if err := v.Rekey(ctx, []age.Recipient{newID.Recipient()}, RekeyOptions{Identities: []age.Identity{newID}}); err != nil {
				t.Fatal(err)
			}
			checkContents(t, v, want)
		})
	}
}

func init() {
	extraHelpers["rekey-crash"] = func(v *Vault) error {
		newID, err := age.ParseX25519Identity(os.Getenv("AUTHVAULT_VAULT_NEWKEY"))
		if err != nil {
			return err
		}
		stop := RekeyStep(os.Getenv("AUTHVAULT_VAULT_STEP"))
		return v.Rekey(context.Background(), []age.Recipient{newID.Recipient()}, RekeyOptions{
			Identities: []age.Identity{newID},
			Hook: func(s RekeyStep) {
				if s == stop {
					os.Exit(3) // as abrupt as a crash: no deferred cleanup runs
				}
			},
		})
	}
}
