package main

import (
	"encoding/json"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/vault"
)

func TestRecipients(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	s.addKey("openai", "work", "sk-canary-recipients")
	own := strings.TrimSpace(s.run(0, "recipients", "list", "--full").stdout)
	if !strings.HasPrefix(own, "age1pq1") || strings.Contains(own, "\n") || len(own) < 1000 {
		t.Fatalf("recipients list --full: %q", own)
	}
	// By default, a fingerprint: never the ~2,000 characters.
	if got := s.run(0, "recipients", "list").stdout; got != vault.Fingerprint(own)+"  post-quantum\n" {
		t.Errorf("recipients list: %q", got)
	}

	backup, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	s.addSecret(backup.String())
	r := s.run(0, "recipients", "add", backup.Recipient().String())
	if !strings.Contains(r.stdout, "added a key slot for "+vault.Fingerprint(backup.Recipient().String())+" (post-quantum)") ||
		!strings.Contains(r.stdout, "now has 2") || strings.Contains(r.stdout, backup.Recipient().String()) {
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
	if r := s.run(1, "recipients", "remove", vault.Fingerprint(own)); !strings.Contains(r.stderr, "lock that key out") {
		t.Errorf("removing the key in use:\n%s", r)
	}
	stranger, _ := age.GenerateX25519Identity()
	if r := s.run(1, "recipients", "remove", stranger.Recipient().String()); !strings.Contains(r.stderr, "not a recipient") {
		t.Errorf("removing a stranger:\n%s", r)
	}
	s.run(2, "recipients", "remove")
	s.run(2, "recipients", "list", "extra")

	// A classic recipient on a post-quantum vault: refused with the
	// choice explained, then accepted with --classic and reported.
	x, _ := age.GenerateX25519Identity()
	s.addSecret(x.String())
	xr := x.Recipient().String()
	r = s.run(1, "recipients", "add", xr)
	for _, want := range []string{"post-quantum and " + vault.Fingerprint(xr) + " is a classic recipient", "age-keygen -pq", "vaultkey recipients add --classic RECIPIENT"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("classic recipient without --classic: stderr lacks %q:\n%s", want, r)
		}
	}
	r = s.run(0, "recipients", "add", "--classic", xr)
	if !strings.Contains(r.stdout, "added a key slot for "+vault.Fingerprint(xr)+" (classic)") || !strings.Contains(r.stdout, "only as strong as the classic") {
		t.Errorf("recipients add --classic:\n%s", r)
	}
	if r := s.run(0, "recipients", "list"); len(strings.Split(strings.TrimSpace(r.stdout), "\n")) != 3 || !strings.Contains(r.stderr, "only as strong as the classic") {
		t.Errorf("recipients list of a mixed vault:\n%s", r)
	}
	if r := s.run(0, "status"); !strings.Contains(r.stdout, vault.Fingerprint(xr)+" (classic)") || !strings.Contains(r.stdout, "only as strong as the classic") {
		t.Errorf("status of a mixed vault:\n%s", r.stdout)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(s.run(0, "status", "--json").stdout), &st); err != nil || !st.Mixed || len(st.Recipients) != 3 || st.Recipients[2] != xr {
		t.Errorf("status --json of a mixed vault: %+v %v", st, err)
	}
	if r := s.runWith(runOpts{env: map[string]string{"AUTHVAULT_KEY": x.String()}}, "status"); r.code != 0 {
		t.Errorf("the classic key does not open the vault:\n%s", r)
	}
	// rm, by fingerprint: the data key is rotated, the mix is gone.
	r = s.run(0, "recipients", "rm", vault.Fingerprint(xr))
	if !strings.Contains(r.stdout, "removed the key slot for "+vault.Fingerprint(xr)) {
		t.Errorf("recipients rm:\n%s", r)
	}
	if opens(s.dir, []age.Identity{x}) {
		t.Error("the removed classic key still opens the vault")
	}
	if r := s.run(0, "status"); strings.Contains(r.stdout, "classic") {
		t.Errorf("status after removing the classic recipient:\n%s", r.stdout)
	}

	// Removing the backup slot rotates the data key: the backup key no
	// longer opens the vault, the own key still does.
	r = s.run(0, "recipients", "remove", backup.Recipient().String())
	if !strings.Contains(r.stdout, "1 record(s) re-sealed") {
		t.Errorf("recipients remove:\n%s", r)
	}
	if opens(s.dir, []age.Identity{backup}) {
		t.Error("the removed key still opens the vault")
	}
	if got := strings.TrimSpace(s.run(0, "recipients", "list", "--full").stdout); got != own {
		t.Errorf("after remove: %q", got)
	}
	if r := s.run(0, "status"); !strings.Contains(r.stdout, "integrity   ok (1 records checked, 0 orphaned files)") {
		t.Errorf("status:\n%s", r.stdout)
	}
	// No command printed a post-quantum recipient whole, but the ones
	// asked to (list --full, --json).
	for _, o := range s.outputs {
		if strings.Contains(o.text, own) && !strings.Contains(o.args, "--full") && !strings.Contains(o.args, "--json") {
			t.Errorf("vaultkey %s printed the whole recipient", o.args)
		}
	}
}

// A classic (X25519) vault and a post-quantum recipient: the error says
// what the mix would mean and how to accept it.
func TestRecipientsPostQuantumOnClassic(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile("--x25519")
	pq, _ := age.GenerateHybridIdentity()
	r := s.run(1, "recipients", "add", pq.Recipient().String())
	if !strings.Contains(r.stderr, "classic recipients") || !strings.Contains(r.stderr, "--classic") {
		t.Errorf("post-quantum recipient on a classic vault:\n%s", r)
	}
	s.run(0, "recipients", "add", "--classic", pq.Recipient().String())
	s.addSecret(pq.String())
	if !opens(s.dir, []age.Identity{pq}) {
		t.Error("the post-quantum key does not open the vault")
	}
}
