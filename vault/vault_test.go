package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/records"
)

func TestPutGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	tv := newTestVault(t, WithClock(func() time.Time { return now }))
	tests := []*records.Record{
		apiRecord("openai", "work", "sk-canary-1"),
		oauthRecord("anthropic", "me@example.com", "sk-ant-oat01-x", "sk-ant-ort01-y"),
		{Provider: "custom", Namespace: "team", Label: "x", Kind: records.KindWellKnown,
			WellKnown: &records.WellKnown{Key: "https://auth.example.com", Token: "tok"}},
	}
	for _, r := range tests {
		t.Run(r.ID().String(), func(t *testing.T) {
			stored := mustPut(t, tv.Vault, r)
			want := r.Clone()
			want.Created, want.Updated, want.Generation = now, now, stored.Generation
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("Put result (-want +got):\n%s", diff)
			}
			got, err := tv.Get(ctx, r.ID())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
			// A fresh process sees the same.
			got2, err := tv.reopen(t).Get(ctx, r.ID())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got2); diff != "" {
				t.Errorf("Get after reopen (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetReturnsCopies(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	r := mustPut(t, tv.Vault, oauthRecord("anthropic", "a", "acc", "ref"))
	got, _ := tv.Get(ctx, r.ID())
	got.OAuth.Access = "mutated"
	got.Meta["email"] = "mutated"
	again, _ := tv.Get(ctx, r.ID())
	if again.OAuth.Access != "acc" || again.Meta["email"] != "a" {
		t.Fatal("mutating a returned record changed the vault's copy")
	}
}

func TestUpdateKeepsCreatedAndBumpsGeneration(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tv := newTestVault(t, WithClock(func() time.Time { return clock }))
	first := mustPut(t, tv.Vault, oauthRecord("anthropic", "a", "acc", "ref"))
	clock = clock.Add(time.Hour)
	upd, err := tv.Update(ctx, first.ID(), func(r *records.Record) error {
		r.OAuth.Access = "acc2"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !upd.Created.Equal(first.Created) || !upd.Updated.Equal(clock) || upd.Generation <= first.Generation {
		t.Fatalf("Update: created %v updated %v gen %d (first gen %d)", upd.Created, upd.Updated, upd.Generation, first.Generation)
	}
	// Put of a record without Created keeps the stored one.
	r := oauthRecord("anthropic", "a", "acc3", "ref")
	again := mustPut(t, tv.Vault, r)
	if !again.Created.Equal(first.Created) {
		t.Fatalf("Put replaced Created: %v", again.Created)
	}
}

func TestUpdateErrors(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	r := mustPut(t, tv.Vault, apiRecord("openai", "a", "k"))
	boom := errors.New("boom")
	if _, err := tv.Update(ctx, r.ID(), func(*records.Record) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: got %v", err)
	}
	if got, _ := tv.Get(ctx, r.ID()); got.Generation != r.Generation {
		t.Fatal("a failed Update wrote")
	}
	if _, err := tv.Update(ctx, records.ID{Provider: "openai", Namespace: "default", Label: "zz"}, func(*records.Record) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: got %v", err)
	}
	if _, err := tv.Update(ctx, r.ID(), func(r *records.Record) error { r.Label = "other"; return nil }); err == nil {
		t.Fatal("Update changed the ID")
	}
}

func TestDeleteAndList(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	for _, r := range []*records.Record{
		apiRecord("openai", "b", "k"), apiRecord("openai", "a", "k"), apiRecord("anthropic", "z", "k"),
		{Provider: "openai", Namespace: "work", Label: "c", Kind: records.KindAPI, API: &records.APIKey{Key: "k"}},
	} {
		mustPut(t, tv.Vault, r)
	}
	ids := func(f Filter) []string {
		es, err := tv.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range es {
			s = append(s, e.ID.String())
		}
		return s
	}
	if diff := cmp.Diff([]string{"anthropic/default/z", "openai/default/a", "openai/default/b", "openai/work/c"}, ids(Filter{})); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"openai/default/a", "openai/default/b"}, ids(Filter{Provider: "openai", Namespace: "default"})); diff != "" {
		t.Error(diff)
	}
	id := records.ID{Provider: "openai", Namespace: "default", Label: "a"}
	if err := tv.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := tv.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := tv.Delete(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	// Another process sees the deletion.
	if _, err := tv.reopen(t).Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete, other vault: %v", err)
	}
	if rep, err := tv.Verify(ctx); err != nil || rep.Orphans != 0 {
		t.Fatalf("Verify: %+v %v", rep, err)
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	keep := mustPut(t, tv.Vault, apiRecord("openai", "keep", "k1"))
	boom := errors.New("boom")
	err := tv.Batch(ctx, func(b *Batch) error {
		for _, l := range []string{"n1", "n2", "n3"} {
			if err := b.Put(apiRecord("openai", l, "k")); err != nil {
				return err
			}
		}
		if err := b.Delete(keep.ID()); err != nil {
			return err
		}
		if n := len(b.List(Filter{})); n != 3 {
			t.Errorf("Batch.List sees %d entries, want 3", n)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	es, _ := tv.List(ctx, Filter{})
	if len(es) != 1 || es[0].ID != keep.ID() {
		t.Fatalf("after failed batch: %v", es)
	}
	// A successful batch commits once: one generation for all.
	err = tv.Batch(ctx, func(b *Batch) error {
		for _, l := range []string{"n1", "n2"} {
			if err := b.Put(apiRecord("openai", l, "k")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	es, _ = tv.List(ctx, Filter{})
	if len(es) != 3 || es[1].Generation != es[2].Generation || es[1].Generation == keep.Generation {
		t.Fatalf("after batch: %+v", es)
	}
}

func TestCreateRefusesExistingVault(t *testing.T) {
	tv := newTestVault(t)
	_, err := Create(context.Background(), tv.dir, []age.Recipient{tv.id.(*age.X25519Identity).Recipient()})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("got %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	mustPut(t, tv.Vault, apiRecord("openai", "a", "k"))
	other, _ := age.GenerateX25519Identity()
	if _, err := Open(ctx, tv.dir, []age.Identity{other}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := Open(ctx, t.TempDir()+"/none", []age.Identity{tv.id}); !errors.Is(err, ErrNoVault) {
		t.Errorf("no vault: %v", err)
	}
	empty := t.TempDir()
	if _, err := Open(ctx, empty, []age.Identity{tv.id}); !errors.Is(err, ErrNoVault) {
		t.Errorf("empty dir: %v", err)
	}
	// A newer format version.
	hb, _ := os.ReadFile(filepath.Join(tv.dir, headerName))
	newer := strings.Replace(string(hb), `"format": 1`, `"format": 2`, 1)
	writeRaw(t, filepath.Join(tv.dir, headerName), []byte(newer))
	if _, err := Open(ctx, tv.dir, []age.Identity{tv.id}); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("format 2: %v", err)
	}
	writeRaw(t, filepath.Join(tv.dir, headerName), []byte("{not json"))
	if _, err := Open(ctx, tv.dir, []age.Identity{tv.id}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("garbage header: %v", err)
	}
}

func TestHeaderRecipientsAreAuthenticated(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	attacker, _ := age.GenerateX25519Identity()
	hb, _ := os.ReadFile(filepath.Join(tv.dir, headerName))
	h, err := parseHeader(hb)
	if err != nil {
		t.Fatal(err)
	}
	h.Recipients = append(h.Recipients, attacker.Recipient().String())
	nb, _ := h.marshal()
	writeRaw(t, filepath.Join(tv.dir, headerName), nb)
	if _, err := Open(ctx, tv.dir, []age.Identity{tv.id}); !errors.Is(err, ErrTampered) {
		t.Fatalf("added recipient: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	mustPut(t, tv.Vault, apiRecord("openai", "a", "k"))
	tv.Close()
	check := func(path string, mode os.FileMode) {
		t.Helper()
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		v, err := Open(ctx, tv.dir, []age.Identity{tv.id})
		if err == nil {
			_, err = v.Get(ctx, records.ID{Provider: "openai", Namespace: "default", Label: "a"})
			v.Close()
		}
		var pe *PermissionError
		if !errors.As(err, &pe) || pe.Path != path || !strings.Contains(err.Error(), "chmod") {
			t.Errorf("%s mode %o: got %v", path, mode, err)
		}
		// The escape hatch for filesystems without modes.
		v, err = Open(ctx, tv.dir, []age.Identity{tv.id}, InsecurePermissions())
		if err != nil {
			t.Fatalf("InsecurePermissions: %v", err)
		}
		if _, err := v.Get(ctx, records.ID{Provider: "openai", Namespace: "default", Label: "a"}); err != nil {
			t.Fatalf("InsecurePermissions Get: %v", err)
		}
		v.Close()
		want := os.FileMode(0o600)
		if strings.HasSuffix(path, "vault") {
			want = 0o700
		}
		os.Chmod(path, want)
	}
	check(tv.dir, 0o755)
	check(filepath.Join(tv.dir, headerName), 0o644)
	check(filepath.Join(tv.dir, manifestName), 0o640)
	files, _ := filepath.Glob(filepath.Join(tv.dir, recordsDir, "*.avr"))
	check(files[0], 0o604)
}

func TestFileModes(t *testing.T) {
	tv := newTestVault(t)
	mustPut(t, tv.Vault, apiRecord("openai", "a", "k"))
	if _, err := tv.UpdateState(context.Background(), "s", func([]byte) ([]byte, error) { return []byte("x"), nil }); err != nil {
		t.Fatal(err)
	}
	err := filepath.Walk(tv.dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", p, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClosed(t *testing.T) {
	tv := newTestVault(t)
	tv.Close()
	if _, err := tv.Get(context.Background(), records.ID{Provider: "a", Namespace: "b", Label: "c"}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := tv.Put(context.Background(), apiRecord("a", "b", "c")); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestLockTimeout(t *testing.T) {
	tv := newTestVault(t)
	unlock, err := tv.store.Lock(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tv.Put(ctx, apiRecord("openai", "a", "k")); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("got %v", err)
	}
}

func TestInvalidRecordsRefused(t *testing.T) {
	tv := newTestVault(t)
	for _, r := range []*records.Record{
		{Provider: "Bad", Namespace: "default", Label: "a", Kind: records.KindAPI, API: &records.APIKey{Key: "k"}},
		{Provider: "ok", Namespace: "default", Label: "a/b", Kind: records.KindAPI, API: &records.APIKey{Key: "k"}},
		{Provider: "ok", Namespace: "default", Label: "a", Kind: records.KindOAuth, API: &records.APIKey{Key: "k"}},
	} {
		if _, err := tv.Put(context.Background(), r); err == nil {
			t.Errorf("Put(%v) accepted", r.ID())
		}
	}
}

func TestStateBlobs(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	other := tv.reopen(t)
	if _, _, err := tv.ReadState(ctx, "pool"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing state: %v", err)
	}
	st, err := tv.UpdateState(ctx, "pool", func(old []byte) ([]byte, error) {
		if old != nil {
			t.Errorf("old = %q, want nil", old)
		}
		return []byte("v1"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tv.StateChanged("pool", st) {
		t.Error("StateChanged right after own write")
	}
	data, st2, err := other.ReadState(ctx, "pool")
	if err != nil || string(data) != "v1" {
		t.Fatalf("ReadState: %q %v", data, err)
	}
	if _, err := other.UpdateState(ctx, "pool", func(old []byte) ([]byte, error) { return append(old, '+'), nil }); err != nil {
		t.Fatal(err)
	}
	if !tv.StateChanged("pool", st) || !tv.StateChanged("pool", st2) {
		t.Error("StateChanged missed another process's write")
	}
	data, _, _ = tv.ReadState(ctx, "pool")
	if string(data) != "v1+" {
		t.Fatalf("got %q", data)
	}
	// Tampered state: typed error, and UpdateState starts afresh.
	files, _ := filepath.Glob(filepath.Join(tv.dir, stateDir, "*.avs"))
	sealed, _ := os.ReadFile(files[0])
	sealed[len(sealed)-1] ^= 1
	writeRaw(t, files[0], sealed)
	if _, _, err := tv.ReadState(ctx, "pool"); !errors.Is(err, ErrTampered) {
		t.Fatalf("tampered state: %v", err)
	}
	if _, err := tv.UpdateState(ctx, "pool", func(old []byte) ([]byte, error) {
		if old != nil {
			t.Errorf("tampered old passed to fn: %q", old)
		}
		return []byte("fresh"), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := tv.DeleteState(ctx, "pool"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tv.ReadState(ctx, "pool"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestVerifyReportsEveryProblem(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	var ids []records.ID
	for _, l := range []string{"a", "b", "c", "d"} {
		ids = append(ids, mustPut(t, tv.Vault, apiRecord("openai", l, "k-"+l)).ID())
	}
	corruptRecordFile(t, tv, ids[0], func(b []byte) []byte { b[40] ^= 0xff; return b })
	removeRecordFile(t, tv, ids[2])
	_, err := tv.Verify(ctx)
	var ve *VerifyError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("Verify: %v", err)
	}
	if !errors.Is(err, ErrTampered) || !errors.Is(err, ErrMissing) {
		t.Fatalf("Verify error does not match both causes: %v", err)
	}
	// The healthy records still read.
	for _, id := range []records.ID{ids[1], ids[3]} {
		if _, err := tv.reopen(t).Get(ctx, id); err != nil {
			t.Errorf("%v: %v", id, err)
		}
	}
}

func TestSweepRemovesOrphans(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	r := mustPut(t, tv.Vault, apiRecord("openai", "a", "k"))
	// An interrupted batch: a record file written, no manifest commit.
	base := recordBase(tv.keys, r.ID())
	writeRaw(t, filepath.Join(tv.dir, filepath.FromSlash(recordFile(base, r.Generation+1))), []byte("partial"))
	writeRaw(t, filepath.Join(tv.dir, recordsDir, tempName("x.avr")), []byte("x"))
	rep, err := tv.Verify(ctx)
	if err != nil || rep.Orphans != 2 {
		t.Fatalf("Verify: %+v %v", rep, err)
	}
	n, err := tv.Sweep(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Sweep: %d %v", n, err)
	}
	if rep, err := tv.Verify(ctx); err != nil || rep.Orphans != 0 {
		t.Fatalf("Verify after sweep: %+v %v", rep, err)
	}
	if _, err := tv.Get(ctx, r.ID()); err != nil {
		t.Fatal(err)
	}
}

func TestRecordCodecInVaultIgnoresCmpEmpty(t *testing.T) {
	// Meta with no entries comes back as nil: callers compare with EquateEmpty.
	tv := newTestVault(t)
	r := apiRecord("openai", "a", "k")
	r.Meta = map[string]string{}
	got := mustPut(t, tv.Vault, r)
	if diff := cmp.Diff(r.Meta, got.Meta, cmpopts.EquateEmpty()); diff != "" {
		t.Fatal(diff)
	}
}

func writeRaw(t testing.TB, path string, data []byte) {
	t.Helper()
	fi, err := os.Lstat(path)
	mode := os.FileMode(0o600)
	if err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	// Make the change visible to stamp checks even within one clock tick.
	future := time.Now().Add(time.Duration(len(data)%7+1) * time.Millisecond)
	os.Chtimes(path, future, future)
}

func recordPath(t testing.TB, tv *testVault, id records.ID) string {
	t.Helper()
	tv.mu.RLock()
	e := tv.man.Entries[id]
	keys := tv.keys
	tv.mu.RUnlock()
	if e == nil {
		t.Fatalf("%v not in manifest", id)
	}
	return filepath.Join(tv.dir, filepath.FromSlash(recordFile(recordBase(keys, id), e.Generation)))
}

func corruptRecordFile(t testing.TB, tv *testVault, id records.ID, fn func([]byte) []byte) {
	t.Helper()
	p := recordPath(t, tv, id)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	writeRaw(t, p, fn(b))
}

func removeRecordFile(t testing.TB, tv *testVault, id records.ID) {
	t.Helper()
	if err := os.Remove(recordPath(t, tv, id)); err != nil {
		t.Fatal(err)
	}
}

// A record cached by one handle is never served stale after another handle
// (another process) changed it, even for writes in quick succession, when
// inode, size and modification time alone could repeat.
func TestCacheSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	r := mustPut(t, tv.Vault, apiRecord("openai", "a", "k-000"))
	reader := tv.reopen(t)
	for i := 1; i <= 50; i++ {
		if _, err := reader.Get(ctx, r.ID()); err != nil { // cache it
			t.Fatal(err)
		}
		want := fmt.Sprintf("k-%03d", i) // same size every time
		if _, err := tv.Update(ctx, r.ID(), func(x *records.Record) error { x.API.Key = records.Secret(want); return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := reader.Get(ctx, r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if got.API.Key.Reveal() != want {
			t.Fatalf("write %d: the reader served a stale record", i)
		}
	}
}

// TestCacheSeesOtherRecordsChange: after another handle changes record B,
// a Get of record A reloads the manifest; a later Get of B must not serve
// B's old cached copy.
func TestCacheSeesOtherRecordsChange(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	a := mustPut(t, tv.Vault, apiRecord("openai", "a", "k-a"))
	b := mustPut(t, tv.Vault, apiRecord("openai", "b", "k-b0"))
	reader := tv.reopen(t)
	for _, id := range []records.ID{a.ID(), b.ID()} {
		if _, err := reader.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tv.Update(ctx, b.ID(), func(x *records.Record) error { x.API.Key = "k-b1"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Get(ctx, a.ID()); err != nil {
		t.Fatal(err)
	}
	got, err := reader.Get(ctx, b.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.API.Key.Reveal() != "k-b1" {
		t.Fatal("the reader served record b's old cached copy")
	}
}
