package migrate

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

var vaultNow = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

// newVault creates a vault in a temporary directory and returns it with a
// function that opens a second handle on it (another process's view).
func newVault(t *testing.T) (*vault.Vault, func() *vault.Vault) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/vault"
	clock := vault.WithClock(func() time.Time { return vaultNow })
	v, err := vault.Create(context.Background(), dir, []age.Recipient{id.Recipient()}, clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	reopen := func() *vault.Vault {
		w, err := vault.Open(context.Background(), dir, []age.Identity{id}, clock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}
	return v, reopen
}

func TestVaultMigration(t *testing.T) {
	ctx := context.Background()
	env, paths := homeWithAll(t)
	v, reopen := newVault(t)
	target := vaultStore{v}

	found, problems := Discover(env)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	first := migrateOnce(t, env, target)
	if len(first.Add) != len(allIDs) {
		t.Fatalf("first plan: %v", rows(first))
	}

	// Another handle reads exactly the found records, with the vault's
	// bookkeeping added.
	got, err := vaultStore{reopen()}.Records(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(allIDs, ids(got)); diff != "" {
		t.Fatalf("vault (-want +got):\n%s", diff)
	}
	byID := map[records.ID]*records.Record{}
	for _, r := range got {
		byID[r.ID()] = r
		if r.Generation != got[0].Generation {
			t.Errorf("%s: generation %d, want one commit (%d)", r.ID(), r.Generation, got[0].Generation)
		}
	}
	for _, f := range found {
		r := byID[f.Record.ID()]
		if diff := cmp.Diff(f.Record, r, cmpopts.IgnoreFields(records.Record{}, "Created", "Updated", "Generation"), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s (-found +stored):\n%s", f.Record.ID(), diff)
		}
	}

	entries, _ := v.List(ctx, vault.Filter{})
	second := migrateOnce(t, env, target)
	if len(second.Add)+len(second.Update)+len(second.Skipped) != 0 {
		t.Errorf("second plan: %v", rows(second))
	}
	entriesAfter, _ := v.List(ctx, vault.Filter{})
	if diff := cmp.Diff(entries, entriesAfter); diff != "" {
		t.Errorf("second run changed the vault:\n%s", diff)
	}

	removed, err := RemoveSources(second)
	if err != nil || len(removed) != len(paths) {
		t.Fatalf("RemoveSources = %v, %v", removed, err)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed", p)
		}
	}
}

func TestVaultApplyFailureKeepsSources(t *testing.T) {
	env, paths := homeWithAll(t)
	contents := readAll(t, paths)
	v, _ := newVault(t)
	target := vaultStore{v}
	found, _ := Discover(env)
	plan, err := newPlan(nil, found, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := apply(ctx, target, plan); err == nil {
		t.Fatal("Apply with a cancelled context succeeded")
	}
	if recs, _ := target.Records(context.Background(), ""); len(recs) != 0 {
		t.Errorf("vault holds %v after a failed Apply", ids(recs))
	}
	if _, err := RemoveSources(plan); !errors.Is(err, ErrNotApplied) {
		t.Errorf("RemoveSources = %v, want ErrNotApplied", err)
	}
	if diff := cmp.Diff(contents, readAll(t, paths)); diff != "" {
		t.Errorf("sources changed:\n%s", diff)
	}
}

func TestVaultConflict(t *testing.T) {
	ctx := context.Background()
	env, _ := homeWithAll(t)
	v, reopen := newVault(t)
	found, _ := Discover(env)
	plan, err := newPlan(nil, found, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Another process adds one of the accounts first.
	if _, err := reopen().Put(ctx, oauth("anthropic", "claude-code", "CANARY-x", "CANARY-y", t0)); err != nil {
		t.Fatal(err)
	}
	if err := apply(ctx, vaultStore{v}, plan); !errors.Is(err, ErrConflict) {
		t.Fatalf("Apply = %v, want ErrConflict", err)
	}
	if recs, _ := (vaultStore{v}).Records(ctx, ""); len(recs) != 1 {
		t.Errorf("vault holds %v, want only the other process's record", ids(recs))
	}
}

func TestVaultSetLegacy(t *testing.T) {
	ctx := context.Background()
	v, reopen := newVault(t)
	target := vaultStore{v}
	id, err := setLegacy(ctx, target, "anthropic", LegacyInfo{Access: "CANARY-a1", Refresh: "CANARY-r1", Expiry: t1})
	if err != nil || id.String() != "anthropic/default/default" {
		t.Fatalf("SetLegacy = %v, %v", id, err)
	}
	if _, err := v.Put(ctx, oauth("anthropic", "zz-second", "CANARY-a2", "CANARY-r2", t1)); err != nil {
		t.Fatal(err)
	}
	id, err = setLegacy(ctx, target, "anthropic", LegacyInfo{Access: "CANARY-a3", Refresh: "CANARY-r3", Expiry: t2, OldRefresh: "CANARY-r2"})
	if err != nil || id.String() != "anthropic/default/zz-second" {
		t.Fatalf("SetLegacy = %v, %v", id, err)
	}
	r, err := reopen().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.OAuth.Refresh != "CANARY-r3" || !r.OAuth.Expiry.Equal(t2) {
		t.Errorf("stored expiry %v, refresh replaced: %v", r.OAuth.Expiry, r.OAuth.Refresh == "CANARY-r3")
	}
	recs, _ := target.Records(ctx, "anthropic")
	if diff := cmp.Diff([]string{"anthropic/default/default", "anthropic/default/zz-second"}, ids(recs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
