package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	s.addKey("openai", "a", "sk-canary-status-1")
	s.addKey("openai", "b", "sk-canary-status-2", "--namespace", "work")
	s.addKey("anthropic", "c", "sk-ant-canary-status-3")

	r := s.run(0, "status")
	for _, want := range []string{
		"vault       " + s.dir,
		"format      1",
		"key         file " + s.keyFile(),
		"recipients  age1pq1",
		"records     3",
		"anthropic api: 1",
		"openai api: 2",
		"integrity   ok (3 records checked, 0 orphaned files)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(s.run(0, "status", "--json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.Records != 3 || len(st.Counts) != 2 || st.Counts[1].Provider != "openai" || st.Counts[1].Count != 2 || !st.Integrity.OK || st.Integrity.Checked != 3 {
		t.Errorf("status --json: %+v", st)
	}

	// Damage one record: status lists the problem and exits 1.
	files, _ := filepath.Glob(filepath.Join(s.dir, "records", "*.avr"))
	if len(files) != 3 {
		t.Fatalf("%d record files", len(files))
	}
	data, _ := os.ReadFile(files[0])
	data[len(data)-1] ^= 1
	if err := os.WriteFile(files[0], data, 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.run(1, "status")
	if !strings.Contains(r.stdout, "integrity   FAILED: 1 problem(s)") || !strings.Contains(r.stdout, "record ") {
		t.Errorf("status of a damaged vault:\n%s", r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "vaultkey: integrity check failed: 1 problem(s)") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr: %q", r.stderr)
	}
	r = s.run(1, "status", "--json")
	st = statusJSON{}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.Integrity.OK || len(st.Integrity.Problems) != 1 {
		t.Errorf("status --json of a damaged vault: %+v", st.Integrity)
	}
	// The damaged record makes a backup fail rather than silently skip it.
	_, recipient, _ := x25519(t, s.root)
	s.run(1, "export", "-r", recipient, "-o", filepath.Join(s.root, "b.age"))
}
