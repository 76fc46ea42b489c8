package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestQuickstartExample(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"stored openai/default/work (generation 1), key printed as [REDACTED]",
		"read back openai/default/work from a second handle: key matches: true",
		"verify: 1 record(s), 0 orphan(s), no problems",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "sk-example-not-a-real-key") {
		t.Errorf("output shows the key:\n%s", s)
	}
	if strings.Contains(s, os.TempDir()) {
		t.Errorf("output names a temporary path:\n%s", s)
	}
}
