package main

import (
	"bytes"
	"errors"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/backup"
	"github.com/authvault/authvault/keysource"
)

var errNoPassphrase = errors.New("no passphrase")

// newX25519 returns a fresh identity (generating one fails only without
// a source of randomness).
func newX25519() *age.X25519Identity {
	id, _ := age.GenerateX25519Identity()
	return id
}

func TestPassphraseIdentity(t *testing.T) {
	r, err := age.NewScryptRecipient("pass")
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	var buf bytes.Buffer
	if err := backup.Encrypt(&buf, []byte("x"), []age.Recipient{r}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	ask := func(p string) *passphraseIdentity {
		return &passphraseIdentity{Get: func() (string, error) { calls++; return p, nil }}
	}
	if got, err := backup.Decrypt(bytes.NewReader(buf.Bytes()), newX25519(), ask("pass")); err != nil || string(got) != "x" {
		t.Errorf("right passphrase: %q, %v", got, err)
	}
	if _, err := backup.Decrypt(bytes.NewReader(buf.Bytes()), ask("wrong")); err == nil || err.Error() != "incorrect passphrase" {
		t.Errorf("wrong passphrase: %v", err)
	}
	failing := &passphraseIdentity{Get: func() (string, error) { return "", errNoPassphrase }}
	if _, err := backup.Decrypt(bytes.NewReader(buf.Bytes()), failing); !errors.Is(err, errNoPassphrase) {
		t.Errorf("no passphrase: %v", err)
	}
	// A file encrypted to a key never asks for a passphrase.
	calls = 0
	id := newX25519()
	buf.Reset()
	backup.Encrypt(&buf, []byte("y"), []age.Recipient{id.Recipient()})
	if _, err := backup.Decrypt(bytes.NewReader(buf.Bytes()), ask("pass"), id); err != nil || calls != 0 {
		t.Errorf("key-encrypted file: %v, %d passphrase requests", err, calls)
	}
}

func TestLazyIdentities(t *testing.T) {
	id := newX25519()
	var buf bytes.Buffer
	backup.Encrypt(&buf, []byte("z"), []age.Recipient{id.Recipient()})
	resolved := 0
	lazy := &lazyIdentities{Get: func() ([]age.Identity, error) { resolved++; return []age.Identity{newX25519(), id}, nil }}
	if got, err := backup.Decrypt(bytes.NewReader(buf.Bytes()), lazy); err != nil || string(got) != "z" || resolved != 1 {
		t.Errorf("lazy: %q, %v, resolved %d times", got, err, resolved)
	}
	broken := &lazyIdentities{Get: func() ([]age.Identity, error) { return nil, errors.New("no vault key") }}
	if _, err := backup.Decrypt(bytes.NewReader(buf.Bytes()), broken); err == nil {
		t.Error("a failing lazy identity decrypted")
	}
}

func TestEncodeIdentities(t *testing.T) {
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	x := newX25519()
	text, err := encodeIdentities([]age.Identity{pq, x})
	if err != nil || text != pq.String()+"\n"+x.String() {
		t.Fatalf("encodeIdentities: %v", err)
	}
	back, err := keysource.ParseIdentities([]byte(text))
	if err != nil || len(back) != 2 {
		t.Fatalf("the encoding does not parse back: %v", err)
	}
	if _, err := encodeIdentities(nil); err == nil {
		t.Error("encodeIdentities(nil)")
	}
	if kindOf([]age.Identity{x}) != keysource.X25519 || kindOf([]age.Identity{pq}) != keysource.PostQuantum {
		t.Error("kindOf")
	}
}
