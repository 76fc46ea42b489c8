package vault

import (
	"context"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

func TestFingerprint(t *testing.T) {
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{pq.Recipient().String(), x.Recipient().String()} {
		fp := Fingerprint(r)
		prefix := r[:strings.LastIndexByte(r, '1')+1]
		if len([]rune(fp)) != len(prefix)+17 || !strings.HasPrefix(fp, prefix+r[len(prefix):len(prefix)+8]+"…") || !strings.HasSuffix(r, fp[len(fp)-8:]) {
			t.Errorf("Fingerprint(%s…) = %q", r[:20], fp)
		}
	}
	if got := Fingerprint(" age1short1qqqq "); got != "age1short1qqqq" {
		t.Errorf("a short recipient: %q", got)
	}
	if !PostQuantum(pq.Recipient().String()) || PostQuantum(x.Recipient().String()) {
		t.Error("PostQuantum")
	}
	if Mixed([]string{pq.Recipient().String()}) || Mixed([]string{x.Recipient().String()}) ||
		!Mixed([]string{pq.Recipient().String(), x.Recipient().String()}) {
		t.Error("Mixed")
	}
}

// A post-quantum vault takes a classic recipient only when asked, and
// keeps the mix through later re-wrappings; each key opens it alone.
func TestAllowClassic(t *testing.T) {
	ctx := context.Background()
	pq, _ := age.GenerateHybridIdentity()
	x, _ := age.GenerateX25519Identity()
	x2, _ := age.GenerateX25519Identity()
	dir := t.TempDir() + "/vault"
	v, err := Create(ctx, dir, []age.Recipient{pq.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	want := mustPut(t, v, apiRecord("openai", "work", "sk-mixed"))

	err = v.AddRecipient(ctx, x.Recipient())
	if err == nil || !strings.Contains(err.Error(), "can't mix post-quantum and classic recipients") {
		t.Fatalf("classic recipient without AllowClassic: %v", err)
	}
	if err := v.AddRecipient(ctx, x.Recipient(), AllowClassic()); err != nil {
		t.Fatal(err)
	}
	if !Mixed(v.Recipients()) {
		t.Fatalf("recipients %v", v.Recipients())
	}
	// Already mixed: another classic one needs no option, and removing it
	// (a data key rotation) keeps the others.
	if err := v.AddRecipient(ctx, x2.Recipient()); err != nil {
		t.Fatal(err)
	}
	if err := v.RemoveRecipient(ctx, x2.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []age.Identity{pq, x} {
		o, err := Open(ctx, dir, []age.Identity{id})
		if err != nil {
			t.Fatalf("%T: %v", id, err)
		}
		got, err := o.Get(ctx, want.ID())
		if err != nil || got.API.Key.Reveal() != "sk-mixed" {
			t.Fatalf("%T: %v", id, err)
		}
		o.Close()
	}
	if _, err := Open(ctx, dir, []age.Identity{x2}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the removed key: %v", err)
	}
	// A vault that is not mixed refuses a mixed key set on rekey.
	w, err := Create(ctx, t.TempDir()+"/other", []age.Recipient{pq.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Rekey(ctx, []age.Recipient{pq.Recipient(), x.Recipient()}, RekeyOptions{}); err == nil {
		t.Fatal("a rekey mixed the recipients of a post-quantum vault")
	}
}
