package keysource

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/plugin"
	"github.com/google/go-cmp/cmp"
)

func TestGenerateIdentity(t *testing.T) {
	tests := []struct {
		kind       Kind
		prefix     string
		rcptPrefix string
		wantType   string
	}{
		{PostQuantum, "AGE-SECRET-KEY-PQ-1", "age1pq1", "*age.HybridIdentity"},
		{X25519, "AGE-SECRET-KEY-1", "age1", "*age.X25519Identity"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			id, enc, rcpt, err := GenerateIdentity(tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(enc, tt.prefix) {
				t.Errorf("encoded identity has the wrong prefix")
			}
			if !strings.HasPrefix(rcpt, tt.rcptPrefix) {
				t.Errorf("recipient %.12s… has the wrong prefix", rcpt)
			}
			if got := typeName(id); got != tt.wantType {
				t.Errorf("identity type = %s, want %s", got, tt.wantType)
			}
			// The three results belong together: encrypt to the recipient,
			// decrypt with the parsed encoding.
			ids, err := ParseIdentities([]byte(enc))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, rcpt, ids)
			roundTrip(t, rcpt, []age.Identity{id})
		})
	}
	if _, _, _, err := GenerateIdentity(Kind(7)); err == nil {
		t.Error("GenerateIdentity(Kind(7)) succeeded")
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *age.HybridIdentity:
		return "*age.HybridIdentity"
	case *age.X25519Identity:
		return "*age.X25519Identity"
	case *plugin.Identity:
		return "*plugin.Identity"
	}
	return "other"
}

// roundTrip checks that ids decrypt what is encrypted to recipient.
func roundTrip(t *testing.T, recipient string, ids []age.Identity) {
	t.Helper()
	rs, err := age.ParseRecipients(strings.NewReader(recipient))
	if err != nil {
		t.Fatal(err)
	}
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, rs...)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("data key"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(&ct, ids...)
	if err != nil {
		t.Fatalf("decrypting with the parsed identities: %v", err)
	}
	var pt bytes.Buffer
	if _, err := pt.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	if pt.String() != "data key" {
		t.Fatalf("decrypted %q", pt.String())
	}
}

func TestParseIdentities(t *testing.T) {
	pq := newTestKey(t, PostQuantum)
	x := newTestKey(t, X25519)
	secrets := []string{pq.encoded, x.encoded}

	tests := []struct {
		name      string
		data      string
		wantTypes []string
		wantErr   string // substring of the error; "" for success
		wantLine  int
	}{
		{name: "post-quantum", data: pq.encoded, wantTypes: []string{"*age.HybridIdentity"}},
		{name: "X25519", data: x.encoded + "\n", wantTypes: []string{"*age.X25519Identity"}},
		{
			name:      "identity file with comments, blank lines, CRLF and indentation",
			data:      "# created: 2025-01-01T00:00:00Z\r\n# public key: " + pq.recipient + "\r\n\r\n  " + pq.encoded + "\r\n\n" + x.encoded,
			wantTypes: []string{"*age.HybridIdentity", "*age.X25519Identity"},
		},
		{name: "empty", data: "", wantErr: "no identities found"},
		{name: "only comments", data: "# nothing here\n\n", wantErr: "no identities found"},
		{name: "recipient instead of identity", data: pq.recipient, wantErr: "line 1: this is a recipient", wantLine: 1},
		{name: "garbage", data: "# key\nhello world", wantErr: "line 2: unknown identity type", wantLine: 2},
		{name: "lower-case identity", data: strings.ToLower(x.encoded), wantErr: "unknown identity type", wantLine: 1},
		{name: "bad X25519 checksum", data: corrupt(x.encoded), wantErr: "line 1: malformed X25519 identity", wantLine: 1},
		{name: "bad post-quantum checksum", data: pq.encoded + "\n" + corrupt(pq.encoded), wantErr: "line 2: malformed post-quantum identity", wantLine: 2},
		{name: "truncated", data: x.encoded[:30], wantErr: "malformed X25519 identity", wantLine: 1},
		{name: "bad plugin identity", data: "AGE-PLUGIN-FOO-1QQQQ", wantErr: "line 1: malformed plugin identity", wantLine: 1},
		{name: "not UTF-8", data: "\xff" + x.encoded, wantErr: "not valid UTF-8"},
		{name: "too long", data: strings.Repeat("#", maxKeyData+1), wantErr: "longer than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := ParseIdentities([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parsed %d identities, want error %q", len(ids), tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				var pe *parseError
				if !errors.As(err, &pe) {
					t.Fatalf("error is %T, want *parseError", err)
				}
				if pe.Line != tt.wantLine {
					t.Errorf("Line = %d, want %d", pe.Line, tt.wantLine)
				}
				assertNoSecret(t, err, secrets...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, id := range ids {
				types = append(types, typeName(id))
			}
			if diff := cmp.Diff(tt.wantTypes, types); diff != "" {
				t.Errorf("identity types (-want +got):\n%s", diff)
			}
		})
	}
}

// corrupt changes one character of a key's data part, breaking its checksum.
func corrupt(s string) string {
	b := []byte(s)
	i := len(b) - 10
	if b[i] == 'Q' {
		b[i] = 'P'
	} else {
		b[i] = 'Q'
	}
	return string(b)
}

func TestParseIdentitiesPlugin(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake plugin is a shell script")
	}
	bin := t.TempDir()
	script := "#!/bin/sh\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "age-plugin-avtest"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	present := plugin.EncodeIdentity("avtest", []byte("token slot 1"))
	missing := plugin.EncodeIdentity("avmissing", []byte("token slot 1"))

	ids, err := ParseIdentities([]byte("# a hardware key\n" + present + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || typeName(ids[0]) != "*plugin.Identity" {
		t.Fatalf("got %d identities of type %s", len(ids), typeName(ids[0]))
	}
	if name := ids[0].(*plugin.Identity).Name(); name != "avtest" {
		t.Errorf("plugin name = %q", name)
	}

	_, err = ParseIdentities([]byte(missing))
	var nf *plugin.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("error %v (%T), want a *plugin.NotFoundError", err, err)
	}
	if nf.Name != "avmissing" {
		t.Errorf("NotFoundError.Name = %q", nf.Name)
	}
	if !strings.Contains(err.Error(), "line 1:") {
		t.Errorf("error %q does not name the line", err)
	}
	assertNoSecret(t, err, missing)

	// Storing does not need the plugin: it may be installed later.
	if _, err := parseIdentities([]byte(missing), false); err != nil {
		t.Errorf("parse without plugin check: %v", err)
	}
}

func TestMayHoldKey(t *testing.T) {
	pq := newTestKey(t, PostQuantum)
	x := newTestKey(t, X25519)
	pluginID := plugin.EncodeIdentity("yubikey", []byte("slot 1 serial 12345"))
	tests := []struct {
		text string
		want bool
	}{
		{pq.encoded, true},
		{"debug: " + x.encoded + " loaded", true},
		{strings.ToLower(x.encoded), true},
		{x.encoded[:len("AGE-SECRET-KEY-1")+8], true},
		{pluginID, true},
		{errUnknownType.Error(), false},
		{`"avmissing" plugin not found: exec: "age-plugin-avmissing": executable file not found in $PATH`, false},
		{pq.recipient, false},
		{"Error: authvault/key is not in the password store.", false},
	}
	for _, tt := range tests {
		if got := mayHoldKey(tt.text); got != tt.want {
			t.Errorf("mayHoldKey(%.40q…) = %v, want %v", tt.text, got, tt.want)
		}
	}
}
