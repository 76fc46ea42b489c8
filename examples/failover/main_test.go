package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestFailoverExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"request 1: HTTP 200", "request 2: HTTP 200", "request 3: HTTP 200", "request 4: HTTP 200",
		`msg="authvault cooldown" account=fakeai/default/alice@example.com`,
		`msg="authvault rotate" account=fakeai/default/bob@example.com from=fakeai/default/alice@example.com status=429`,
		`msg="authvault refresh" account=fakeai/default/bob@example.com adopted=false`,
		`msg="authvault rotate" account=fakeai/default/carol@example.com from=fakeai/default/bob@example.com`,
		"the provider received 6 requests for 4 answered calls",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// The table: alice and bob cooling, carol ready, with their counters.
	lines := strings.Split(strings.TrimSpace(s[strings.Index(s, "accounts, as vaultkey accounts list shows them:"):]), "\n")
	if len(lines) != 5 {
		t.Fatalf("table:\n%s", strings.Join(lines, "\n"))
	}
	for i, want := range [][]string{
		{"alice@example.com", "api", "cooling until", "0", "1"},
		{"bob@example.com", "oauth", "cooling until", "3", "1"},
		{"carol@example.com", "api", "ready", "1", "0"},
	} {
		row := lines[i+2]
		f := strings.Fields(row)
		for _, w := range want[:3] {
			if !strings.Contains(row, w) {
				t.Errorf("row %q lacks %q", row, w)
			}
		}
		if f[len(f)-2] != want[3] || f[len(f)-1] != want[4] {
			t.Errorf("row %q: successes/429s want %s/%s", row, want[3], want[4])
		}
	}
	// The example removes its vault: it names no path.
	if strings.Contains(s, os.TempDir()) {
		t.Errorf("output names a temporary path:\n%s", s)
	}
	// No secret reaches the output.
	for _, secret := range []string{"sk-alice", "sk-carol", "access-bob-expired", "refresh-bob", "access-refreshed-1", "refresh-rotated-1"} {
		if strings.Contains(s, secret) {
			t.Errorf("output leaks %q", secret)
		}
	}
}
