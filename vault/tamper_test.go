package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
)

// Every attack by a local writer without the key gives its typed error and
// never wrong data, in a fresh process (no cache) and in Verify.
func TestTampering(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		attack func(t *testing.T, tv *testVault, a, b records.ID)
		want   error
	}{
		{"swap two record files", func(t *testing.T, tv *testVault, a, b records.ID) {
			pa, pb := recordPath(t, tv, a), recordPath(t, tv, b)
			da, _ := os.ReadFile(pa)
			db, _ := os.ReadFile(pb)
			writeRaw(t, pa, db)
			writeRaw(t, pb, da)
		}, ErrTampered},
		{"older copy of a record put back", func(t *testing.T, tv *testVault, a, _ records.ID) {
			old, _ := os.ReadFile(recordPath(t, tv, a))
			if _, err := tv.Update(ctx, a, func(r *records.Record) error { r.API.Key = "newer"; return nil }); err != nil {
				t.Fatal(err)
			}
			writeRaw(t, recordPath(t, tv, a), old)
		}, ErrRollback},
		{"one byte flipped", func(t *testing.T, tv *testVault, a, _ records.ID) {
			corruptRecordFile(t, tv, a, func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b })
		}, ErrTampered},
		{"header byte flipped", func(t *testing.T, tv *testVault, a, _ records.ID) {
			corruptRecordFile(t, tv, a, func(b []byte) []byte { b[5] = 'm'; return b })
		}, ErrTampered},
		{"truncated", func(t *testing.T, tv *testVault, a, _ records.ID) {
			corruptRecordFile(t, tv, a, func(b []byte) []byte { return b[:len(b)-7] })
		}, ErrTampered},
		{"truncated to nothing", func(t *testing.T, tv *testVault, a, _ records.ID) {
			corruptRecordFile(t, tv, a, func(b []byte) []byte { return nil })
		}, records.ErrEnvelopeFormat},
		{"record file deleted", func(t *testing.T, tv *testVault, a, _ records.ID) {
			removeRecordFile(t, tv, a)
		}, ErrMissing},
		{"record file moved to another generation's name", func(t *testing.T, tv *testVault, a, _ records.ID) {
			p := recordPath(t, tv, a)
			data, _ := os.ReadFile(p)
			if _, err := tv.Update(ctx, a, func(r *records.Record) error { r.API.Key = "newer"; return nil }); err != nil {
				t.Fatal(err)
			}
			writeRaw(t, recordPath(t, tv, a), data)
		}, ErrRollback},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tv := newTestVault(t)
			a := mustPut(t, tv.Vault, apiRecord("openai", "a", "key-a")).ID()
			b := mustPut(t, tv.Vault, apiRecord("openai", "b", "key-b")).ID()
			tc.attack(t, tv, a, b)
			fresh := tv.reopen(t)
			got, err := fresh.Get(ctx, a)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Get: got %v (record %v), want %v", err, got, tc.want)
			}
			if got != nil {
				t.Fatal("Get returned a record with an error")
			}
			if _, err := fresh.Verify(ctx); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestManifestRollback(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	a := mustPut(t, tv.Vault, apiRecord("openai", "a", "k1")).ID()
	mp := filepath.Join(tv.dir, manifestName)
	oldManifest, _ := os.ReadFile(mp)
	for i := 0; i < 2; i++ {
		if _, err := tv.Update(ctx, a, func(r *records.Record) error { r.API.Key += "x"; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(t, tv.Vault, apiRecord("openai", "b", "k2"))
	// Keep the old record file too, so the old manifest is self-consistent.
	writeRaw(t, mp, oldManifest)

	// The process that saw the newer manifest refuses the older one.
	if _, err := tv.Get(ctx, a); !errors.Is(err, ErrRollback) {
		t.Fatalf("same process: got %v", err)
	}
	// A fresh process notices record files newer than the manifest.
	if _, err := tv.reopen(t).Verify(ctx); !errors.Is(err, ErrRollback) {
		t.Fatalf("Verify in a fresh process: got %v", err)
	}
	if _, err := tv.reopen(t).Sweep(ctx); !errors.Is(err, ErrRollback) {
		t.Fatalf("Sweep must refuse to destroy the evidence: %v", err)
	}
}

func TestManifestTampered(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	mustPut(t, tv.Vault, apiRecord("openai", "a", "k1"))
	mp := filepath.Join(tv.dir, manifestName)
	b, _ := os.ReadFile(mp)
	b[len(b)-3] ^= 0x80
	writeRaw(t, mp, b)
	if _, err := Open(ctx, tv.dir, []age.Identity{tv.id}); !errors.Is(err, ErrTampered) {
		t.Fatalf("got %v", err)
	}
	os.Remove(mp)
	if _, err := Open(ctx, tv.dir, []age.Identity{tv.id}); !errors.Is(err, ErrMissing) {
		t.Fatalf("manifest deleted: got %v", err)
	}
}

func TestBlobFromAnotherVaultDoesNotOpen(t *testing.T) {
	ctx := context.Background()
	tv1, tv2 := newTestVault(t), newTestVault(t)
	a1 := mustPut(t, tv1.Vault, apiRecord("openai", "a", "one")).ID()
	mustPut(t, tv2.Vault, apiRecord("openai", "a", "two"))
	data, _ := os.ReadFile(recordPath(t, tv1, a1))
	writeRaw(t, recordPath(t, tv2, a1), data)
	if _, err := tv2.reopen(t).Get(ctx, a1); !errors.Is(err, ErrTampered) {
		t.Fatalf("got %v", err)
	}
}

func TestSymlinksRefused(t *testing.T) {
	ctx := context.Background()
	t.Run("record file", func(t *testing.T) {
		tv := newTestVault(t)
		a := mustPut(t, tv.Vault, apiRecord("openai", "a", "k")).ID()
		p := recordPath(t, tv, a)
		target := filepath.Join(t.TempDir(), "elsewhere")
		data, _ := os.ReadFile(p)
		os.WriteFile(target, data, 0o600)
		os.Remove(p)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		_, err := tv.reopen(t).Get(ctx, a)
		var pe *PermissionError
		if !errors.As(err, &pe) || !pe.Symlink {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("lock file", func(t *testing.T) {
		tv := newTestVault(t)
		mustPut(t, tv.Vault, apiRecord("openai", "a", "k"))
		lp := filepath.Join(tv.dir, ".lock")
		target := filepath.Join(t.TempDir(), "victim")
		os.WriteFile(target, []byte("precious"), 0o600)
		os.Remove(lp)
		if err := os.Symlink(target, lp); err != nil {
			t.Fatal(err)
		}
		_, err := tv.Put(ctx, apiRecord("openai", "b", "k"))
		var pe *PermissionError
		if !errors.As(err, &pe) || !pe.Symlink {
			t.Fatalf("got %v", err)
		}
		if b, _ := os.ReadFile(target); string(b) != "precious" {
			t.Fatal("symlink target modified")
		}
	})
	t.Run("records directory", func(t *testing.T) {
		tv := newTestVault(t)
		mustPut(t, tv.Vault, apiRecord("openai", "a", "k"))
		rd := filepath.Join(tv.dir, recordsDir)
		elsewhere := t.TempDir()
		os.Rename(rd, filepath.Join(elsewhere, "r"))
		os.Symlink(filepath.Join(elsewhere, "r"), rd)
		_, err := tv.Put(ctx, apiRecord("openai", "b", "k"))
		var pe *PermissionError
		if !errors.As(err, &pe) || !pe.Symlink {
			t.Fatalf("got %v", err)
		}
	})
}
