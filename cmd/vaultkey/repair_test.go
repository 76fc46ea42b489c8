package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authvault/authvault/records"
)

// An older manifest put back: status says to repair, a write is refused,
// repair --dry-run lists the changes and writes nothing, repair brings
// every record back at its newest value.
func TestRepair(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	s.addKey("openai", "a", "sk-canary-repair-a1")
	if r := s.run(0, "repair"); !strings.Contains(r.stdout, "nothing to repair") {
		t.Errorf("repair of a sound vault:\n%s", r.stdout)
	}
	old, err := os.ReadFile(filepath.Join(s.dir, "manifest.avm"))
	if err != nil {
		t.Fatal(err)
	}
	w := openVault(t, s.dir, s.identitiesFromFile())
	for _, r := range []struct{ label, key string }{{"b", "sk-canary-repair-b1"}, {"a", "sk-canary-repair-a2"}, {"b", "sk-canary-repair-b2"}} {
		s.addSecret(r.key)
		if _, err := w.Put(context.Background(), &records.Record{Provider: "openai", Namespace: "default", Label: r.label,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(r.key)}}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if err := os.WriteFile(filepath.Join(s.dir, "manifest.avm"), old, 0o600); err != nil {
		t.Fatal(err)
	}

	r := s.run(1, "status")
	if !strings.Contains(r.stdout, "vaultkey repair --dry-run") {
		t.Errorf("status does not say to repair:\n%s", r.stdout)
	}
	var st statusJSON
	json.Unmarshal([]byte(s.run(1, "status", "--json").stdout), &st)
	if !st.Integrity.Repair {
		t.Errorf("status --json: repair not set: %+v", st.Integrity)
	}
	before := snapshot(t, s.dir)
	r = s.run(0, "repair", "--dry-run")
	if !strings.Contains(r.stdout, "openai/default/a: generation 1 -> ") || !strings.Contains(r.stdout, "openai/default/b: generation 0 -> ") ||
		!strings.Contains(r.stdout, "nothing written") {
		t.Errorf("repair --dry-run:\n%s", r.stdout)
	}
	if after := snapshot(t, s.dir); len(after) != len(before) {
		t.Error("repair --dry-run changed the vault")
	}
	var changes []repairJSON
	if err := json.Unmarshal([]byte(s.run(0, "repair", "--dry-run", "--json").stdout), &changes); err != nil || len(changes) != 2 {
		t.Errorf("repair --dry-run --json: %+v, %v", changes, err)
	}
	r = s.run(0, "repair")
	if !strings.Contains(r.stdout, "2 change(s) written") {
		t.Errorf("repair:\n%s", r.stdout)
	}
	s.run(0, "status")

	v := openVault(t, s.dir, s.identitiesFromFile())
	for label, want := range map[string]string{"a": "sk-canary-repair-a2", "b": "sk-canary-repair-b2"} {
		got, err := v.Get(context.Background(), records.ID{Provider: "openai", Namespace: "default", Label: label})
		if err != nil || got.API.Key.Reveal() != want {
			t.Errorf("%s after repair: %v", label, err)
		}
	}
	if _, err := v.Verify(context.Background()); err != nil {
		t.Errorf("Verify after repair: %v", err)
	}
}
