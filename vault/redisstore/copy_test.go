package redisstore_test

import (
	"context"
	"errors"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/internal/vaulttest"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

// allRecords reads every record of v.
var allRecords = vaulttest.AllRecords

func openOn(t *testing.T, s vault.Store, id age.Identity) (*vault.Vault, error) {
	t.Helper()
	v, err := vault.Open(context.Background(), "copy", []age.Identity{id}, vault.WithStore(s))
	if err == nil {
		t.Cleanup(func() { v.Close() })
	}
	return v, err
}

func TestCopy(t *testing.T) {
	ctx := context.Background()
	srcURL := sharedURL(t)
	id := newIdentity(t)
	v := createVault(t, srcURL, id)
	for _, l := range []string{"a", "b", "c"} {
		mustPut(t, v, apiRecord("openai", l, "key-"+l))
	}
	mustPut(t, v, apiRecord("openai", "b", "key-b2")) // a second generation
	if _, err := v.UpdateState(ctx, "pool.z", func([]byte) ([]byte, error) { return []byte("state"), nil }); err != nil {
		t.Fatal(err)
	}
	want := allRecords(t, v)
	src := openStore(t, srcURL)

	// Redis to Redis, another prefix.
	dstURL := sharedURL(t)
	dst := openStore(t, dstURL)
	if err := dst.Write("records/leftover.7.avr", []byte("from an interrupted copy")); err != nil {
		t.Fatal(err)
	}
	if err := redisstore.Copy(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	cv, err := openOn(t, openStore(t, dstURL), id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, allRecords(t, cv)); diff != "" {
		t.Errorf("copy differs (-src +copy):\n%s", diff)
	}
	if cv.ID() != v.ID() {
		t.Errorf("copy has vault id %s, source %s", cv.ID(), v.ID())
	}
	if data, _, err := cv.ReadState(ctx, "pool.z"); err != nil || string(data) != "state" {
		t.Errorf("state in the copy: %q %v", data, err)
	}
	if rep, err := cv.Verify(ctx); err != nil || rep.Orphans != 0 {
		t.Errorf("Verify of the copy: %+v %v (the leftover must be gone)", rep, err)
	}

	// Refusals.
	if err := redisstore.Copy(ctx, src, dst); !errors.Is(err, vault.ErrExists) {
		t.Errorf("copy onto a vault: %v, want ErrExists", err)
	}
	if err := redisstore.Copy(ctx, openStore(t, sharedURL(t)), openStore(t, sharedURL(t))); !errors.Is(err, vault.ErrNoVault) {
		t.Errorf("copy of an empty store: %v, want ErrNoVault", err)
	}
	if err := redisstore.Copy(ctx, src, src); err == nil {
		t.Error("copy onto itself accepted")
	}
	if err := redisstore.Copy(ctx, src, openStore(t, srcURL)); err == nil {
		t.Error("copy onto the same prefix accepted")
	}

	// To a store of another kind and back.
	mem := newMemStore()
	if err := redisstore.Copy(ctx, src, mem); err != nil {
		t.Fatal(err)
	}
	mv, err := openOn(t, mem, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, allRecords(t, mv)); diff != "" {
		t.Errorf("copy to memory differs:\n%s", diff)
	}
	backURL := sharedURL(t)
	if err := redisstore.Copy(ctx, mem, openStore(t, backURL)); err != nil {
		t.Fatal(err)
	}
	bv, err := openOn(t, openStore(t, backURL), id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, allRecords(t, bv)); diff != "" {
		t.Errorf("copy back differs:\n%s", diff)
	}
}

// A copy that fails halfway leaves no vault and no blob in dst, and can
// be run again.
func TestCopyAllOrNothing(t *testing.T) {
	ctx := context.Background()
	srcURL := sharedURL(t)
	id := newIdentity(t)
	v := createVault(t, srcURL, id)
	for _, l := range []string{"a", "b", "c", "d"} {
		mustPut(t, v, apiRecord("openai", l, "key-"+l))
	}
	src := openStore(t, srcURL)
	for fail := 1; fail <= 6; fail++ { // 4 records, the manifest, the header
		mem := newMemStore()
		mem.failWrites = fail
		if err := redisstore.Copy(ctx, src, mem); !errors.Is(err, errInjected) {
			t.Fatalf("failing write %d: %v", fail, err)
		}
		if len(mem.blobs) != 0 {
			t.Errorf("failing write %d left %d blobs", fail, len(mem.blobs))
		}
		if _, err := openOn(t, mem, id); !errors.Is(err, vault.ErrNoVault) {
			t.Errorf("failing write %d: Open of the partial copy: %v, want ErrNoVault", fail, err)
		}
		if err := redisstore.Copy(ctx, src, mem); err != nil {
			t.Fatalf("copy again after failing write %d: %v", fail, err)
		}
		if _, err := openOn(t, mem, id); err != nil {
			t.Fatalf("after a second copy: %v", err)
		}
	}
}
