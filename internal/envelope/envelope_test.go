package envelope

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/authvault/authvault/records"
)

func TestEnvelope(t *testing.T) {
	dek := bytes.Repeat([]byte{7}, DataKeySize)
	k, err := DeriveKeys(dek, "vault-1")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := DeriveKeys(dek, "vault-2")
	blob, err := k.Seal(BlobRecord, "records/a", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k.Open(BlobRecord, "records/a", blob); err != nil || string(pt) != "hello" {
		t.Fatalf("Open: %q %v", pt, err)
	}
	again, _ := k.Seal(BlobRecord, "records/a", []byte("hello"))
	if bytes.Equal(blob, again) {
		t.Fatal("two seals of the same plaintext are equal: nonce not random")
	}
	cases := map[string]func() ([]byte, error){
		"other name":  func() ([]byte, error) { return k.Open(BlobRecord, "records/b", blob) },
		"other kind":  func() ([]byte, error) { return k.Open(BlobState, "records/a", blob) },
		"other vault": func() ([]byte, error) { return other.Open(BlobRecord, "records/a", blob) },
	}
	for name, open := range cases {
		if _, err := open(); !errors.Is(err, records.ErrTampered) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for i := range blob {
		c := bytes.Clone(blob)
		c[i] ^= 0x20
		if _, err := k.Open(BlobRecord, "records/a", c); err == nil {
			t.Fatalf("byte %d flipped: opened", i)
		}
	}
	v2 := bytes.Clone(blob)
	v2[4] = 2
	if _, err := k.Open(BlobRecord, "records/a", v2); !errors.Is(err, records.ErrEnvelopeVersion) {
		t.Errorf("version 2: %v", err)
	}
	name1, name2 := k.FileName("x"), k.FileName("x")
	if name1 == other.FileName("x") || name1 != name2 || strings.Contains(k.FileName("me@example.com"), "example") {
		t.Error("file names are not keyed, stable and opaque")
	}
}
