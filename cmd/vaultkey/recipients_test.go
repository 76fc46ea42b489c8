package main

import (
	"encoding/json"
	"strings"
	"testing"

	"filippo.io/age"
)

func TestRecipients(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	s.addKey("openai", "work", "sk-canary-recipients")
	own := strings.TrimSpace(s.run(0, "recipients", "list").stdout)
	if !strings.HasPrefix(own, "age1pq1") || strings.Contains(own, "\n") {
		t.Fatalf("recipients list: %q", own)
	}

	backup, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	s.addSecret(backup.String())
	r := s.run(0, "recipients", "add", backup.Recipient().String())
	if !strings.Contains(r.stdout, "now has 2") {
		t.Errorf("recipients add:\n%s", r)
	}
	var list []string
	if err := json.Unmarshal([]byte(s.run(0, "recipients", "list", "--json").stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0] != own || list[1] != backup.Recipient().String() {
		t.Errorf("recipients list --json: %v", list)
	}
	// The backup key opens the vault on its own, as AUTHVAULT_KEY.
	r = s.runWith(runOpts{env: map[string]string{"AUTHVAULT_KEY": backup.String()}}, "status")
	if r.code != 0 || !strings.Contains(r.stdout, "environment (AUTHVAULT_KEY)") {
		t.Errorf("status with the added key:\n%s", r)
	}

	// Errors: a duplicate, a malformed recipient, an identity, the key in use.
	if r := s.run(1, "recipients", "add", backup.Recipient().String()); !strings.Contains(r.stderr, "already a recipient") {
		t.Errorf("duplicate add:\n%s", r)
	}
	s.run(2, "recipients", "add", "age1bogus")
	if r := s.run(2, "recipients", "add", backup.String()); !strings.Contains(r.stderr, "identity") {
		t.Errorf("add of an identity:\n%s", r)
	}
	x, _ := age.GenerateX25519Identity()
	if r := s.run(1, "recipients", "add", x.Recipient().String()); !strings.Contains(r.stderr, "post-quantum") {
		t.Errorf("mixing a classic recipient into a post-quantum vault:\n%s", r)
	}
	if r := s.run(1, "recipients", "remove", own); !strings.Contains(r.stderr, "lock that key out") {
		t.Errorf("removing the key in use:\n%s", r)
	}
	if r := s.run(1, "recipients", "remove", x.Recipient().String()); !strings.Contains(r.stderr, "not a recipient") {
		t.Errorf("removing a stranger:\n%s", r)
	}
	s.run(2, "recipients", "remove")
	s.run(2, "recipients", "list", "extra")

	// Removing the backup slot rotates the data key: the backup key no
	// longer opens the vault, the own key still does.
	r = s.run(0, "recipients", "remove", backup.Recipient().String())
	if !strings.Contains(r.stdout, "1 record(s) re-sealed") {
		t.Errorf("recipients remove:\n%s", r)
	}
	if opens(s.dir, []age.Identity{backup}) {
		t.Error("the removed key still opens the vault")
	}
	if got := strings.TrimSpace(s.run(0, "recipients", "list").stdout); got != own {
		t.Errorf("after remove: %q", got)
	}
	if r := s.run(0, "status"); !strings.Contains(r.stdout, "integrity   ok (1 records checked, 0 orphaned files)") {
		t.Errorf("status:\n%s", r.stdout)
	}
}
