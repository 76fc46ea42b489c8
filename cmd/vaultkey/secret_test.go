package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadSecretFromPipe(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"sk-abc\n", "sk-abc", ""},
		{"  sk-abc \r\n", "sk-abc", ""},
		{"sk-abc", "sk-abc", ""},
		{"\n\n", "", "empty input"},
		{"", "", "empty input"},
		{strings.Repeat("k", maxSecret+1), "", "longer than"},
	} {
		var prompt strings.Builder
		got, err := readSecret(strings.NewReader(tc.in), &prompt, "prompt: ")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("readSecret(%.10q): %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("readSecret(%.10q) = %q, %v", tc.in, got, err)
		}
		if prompt.Len() != 0 {
			t.Error("a prompt was written although stdin is not a terminal")
		}
	}
}

func TestPassphraseSources(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "AUTHVAULT_PASSPHRASE" {
				return v
			}
			return ""
		}
	}
	for name, fn := range map[string]func(func(string) string, io.Reader, io.Writer, string) (string, error){
		"getPassphrase": getPassphrase, "newPassphrase": newPassphrase,
	} {
		p, err := fn(env("from env"), strings.NewReader("ignored"), io.Discard, "p: ")
		if err != nil || p != "from env" {
			t.Errorf("%s with AUTHVAULT_PASSPHRASE = %q, %v", name, p, err)
		}
		if _, err := fn(env(""), strings.NewReader("not a terminal"), io.Discard, "p: "); !errors.Is(err, errNoTerminal) {
			t.Errorf("%s without a terminal: %v", name, err)
		}
	}
	if isTerminal(strings.NewReader("")) || isTerminal(nil) {
		t.Error("isTerminal of a non-file")
	}
}
