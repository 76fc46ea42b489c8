package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/vault"
)

func TestInspectAndRemoveNewVault(t *testing.T) {
	root := t.TempDir()
	id, _ := age.GenerateX25519Identity()
	create := func(dir string) string {
		v, err := vault.Create(context.Background(), dir, []age.Recipient{id.Recipient()})
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		return v.ID()
	}

	missing := filepath.Join(root, "missing")
	if st, _, err := inspectDir(missing); st != dirMissing || err != nil {
		t.Errorf("missing: %v %v", st, err)
	}
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o700)
	if st, _, err := inspectDir(empty); st != dirEmpty || err != nil {
		t.Errorf("empty: %v %v", st, err)
	}
	other := filepath.Join(root, "other")
	os.Mkdir(other, 0o700)
	os.WriteFile(filepath.Join(other, "x"), nil, 0o600)
	if st, _, err := inspectDir(other); st != dirOther || err != nil {
		t.Errorf("other: %v %v", st, err)
	}

	vid := create(missing)
	if st, got, err := inspectDir(missing); st != dirVault || got != vid || err != nil {
		t.Errorf("vault: %v %q %v", st, got, err)
	}
	if err := removeNewVault(missing, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Error("the created directory is still there")
	}

	create(empty)
	if err := removeNewVault(empty, false); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := inspectDir(empty); st != dirEmpty {
		t.Errorf("after removing a vault from a directory that was empty: %v", st)
	}
}
