//go:build unix

package securitytest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// The functions below are an independent reading of the formats that
// SECURITY.md documents, written from the document and not from the
// code. Each test reads a real vault with them: if the implementation
// drifts from the document, these tests fail.

// purposeKey is HKDF-SHA256(ikm = data key, salt = vault id,
// info = "authvault v1 " + purpose), 32 bytes.
func purposeKey(t testing.TB, dek []byte, vaultID, purpose string) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, dek, []byte(vaultID), "authvault v1 "+purpose, 32)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// envelopeAD is the GCM additional data: the 6-byte prefix, then the
// vault id with a 2-byte big-endian length, then the blob name with a
// 4-byte big-endian length.
func envelopeAD(prefix []byte, vaultID, name string) []byte {
	ad := append([]byte(nil), prefix...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(vaultID)))
	ad = append(ad, vaultID...)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(name)))
	return append(ad, name...)
}

// openEnvelope opens a sealed blob: "AVB1" | version 1 | kind |
// 12-byte nonce | AES-256-GCM ciphertext and tag.
func openEnvelope(t testing.TB, dek []byte, vaultID, purpose string, kind byte, name string, blob []byte) ([]byte, error) {
	t.Helper()
	if len(blob) < 4+1+1+12+16 {
		return nil, fmt.Errorf("blob of %d bytes is shorter than an empty envelope", len(blob))
	}
	if string(blob[:4]) != "AVB1" || blob[4] != 1 || blob[5] != kind {
		return nil, fmt.Errorf("envelope prefix %q, want AVB1 \\x01 %q", blob[:6], kind)
	}
	block, err := aes.NewCipher(purposeKey(t, dek, vaultID, purpose))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return gcm.Open(nil, blob[6:18], blob[18:], envelopeAD(blob[:6], vaultID, name))
}

// opaqueName is the first 20 bytes of HMAC-SHA256(names key, name) in
// lower-case base32 without padding: 32 characters.
func opaqueName(t testing.TB, dek []byte, vaultID, name string) string {
	t.Helper()
	m := hmac.New(sha256.New, purposeKey(t, dek, vaultID, "names"))
	m.Write([]byte(name))
	return base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:20])
}

// headerMAC is HMAC-SHA256 under the "header mac" key over
// AD("AVH1", vault id, "") followed by the header's public fields.
func headerMAC(t testing.TB, dek []byte, h *headerFile) string {
	t.Helper()
	var in strings.Builder
	fmt.Fprintf(&in, "authvault header v%d\n%s\n%d\n", h.Format, h.VaultID, h.Created.UnixNano())
	for _, r := range h.Recipients {
		fmt.Fprintf(&in, "r %d %s\n", len(r), r)
	}
	fmt.Fprintf(&in, "k %d %s\n", len(h.DataKey), h.DataKey)
	m := hmac.New(sha256.New, purposeKey(t, dek, h.VaultID, "header mac"))
	m.Write(envelopeAD([]byte("AVH1"), h.VaultID, ""))
	m.Write([]byte(in.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// manifestEntry is one entry of the manifest's plaintext.
type manifestEntry struct {
	ID         records.ID
	Kind       byte
	Generation uint64
	Updated    int64
}

// parseManifest reads the manifest plaintext: uvarint version (1),
// uvarint vault generation, uvarint entry count, then per entry three
// uvarint-length-prefixed strings (provider, namespace, label), a kind
// byte ('o', 'a', 'w'), a uvarint generation and a signed varint update
// time in Unix nanoseconds.
func parseManifest(t testing.TB, b []byte) (version, generation uint64, entries []manifestEntry) {
	t.Helper()
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatal("manifest: bad uvarint")
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uv()
		if n > uint64(len(b)) {
			t.Fatal("manifest: string longer than the data")
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	version, generation = uv(), uv()
	count := uv()
	for i := uint64(0); i < count; i++ {
		var e manifestEntry
		e.ID = records.ID{Provider: str(), Namespace: str(), Label: str()}
		e.Kind, b = b[0], b[1:]
		e.Generation = uv()
		v, n := binary.Varint(b)
		if n <= 0 {
			t.Fatal("manifest: bad varint")
		}
		e.Updated, b = v, b[n:]
		entries = append(entries, e)
	}
	if len(b) != 0 {
		t.Fatalf("manifest: %d trailing bytes", len(b))
	}
	return version, generation, entries
}

// vault.json: the documented fields only, the data key an armored age file
// of 32 bytes to a post-quantum recipient, and the MAC over the public
// fields as documented.
func TestFormatHeader(t *testing.T) {
	f := newFixture(t)
	h, raw := readHeader(t, f.dir)
	if !bytes.HasPrefix(raw, []byte("{\n  \"format\": 1,\n  \"vault_id\": ")) || !bytes.HasSuffix(raw, []byte("}\n")) {
		t.Errorf("vault.json is not indented JSON in field order:\n%s", raw)
	}
	if h.Format != 1 {
		t.Errorf("format %d, want 1", h.Format)
	}
	if id, err := base64.RawURLEncoding.DecodeString(h.VaultID); err != nil || len(id) != 16 {
		t.Errorf("vault_id %q is not 16 bytes of unpadded base64url", h.VaultID)
	}
	if h.Created.Location() != time.UTC || h.Created.Nanosecond() != 0 {
		t.Errorf("created %v is not whole seconds UTC", h.Created)
	}
	if len(h.Recipients) != 1 || h.Recipients[0] != f.c.Recipient || !strings.HasPrefix(h.Recipients[0], "age1pq1") {
		t.Errorf("recipients %v, want [%s]", h.Recipients, f.c.Recipient)
	}
	if !strings.HasPrefix(h.DataKey, armor.Header+"\n") {
		t.Errorf("data_key is not an armored age file")
	}
	// One hybrid ML-KEM-768 + X25519 stanza per post-quantum recipient.
	hdr := ageHeader(t, h.DataKey)
	if n := strings.Count(hdr, "\n-> mlkem768x25519 "); n != 1 {
		t.Errorf("data_key has %d mlkem768x25519 stanzas, want 1:\n%s", n, hdr)
	}
	dek := unwrapDataKey(t, h, f.c.identity)
	if len(dek) != 32 {
		t.Fatalf("data key is %d bytes, want 32", len(dek))
	}
	if got := headerMAC(t, dek, h); got != h.MAC {
		t.Errorf("mac %s, documented computation gives %s", h.MAC, got)
	}
}

// ageHeader returns the text header of an armored age file.
func ageHeader(t testing.TB, armored string) string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(armor.NewReader(strings.NewReader(armored))); err != nil {
		t.Fatal(err)
	}
	hdr, _, ok := bytes.Cut(buf.Bytes(), []byte("\n--- "))
	if !ok {
		t.Fatal("age file without a header MAC line")
	}
	return string(hdr)
}

// Record files: records/<opaque name>.<generation in hex>.avr, sealed
// under the record key, bound to "records/<opaque name>", holding the
// record's canonical JSON ({"v":1,…}) at that generation.
func TestFormatEnvelope(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	h, _ := readHeader(t, f.dir)
	dek := f.dataKey(t)
	byBase := map[string]records.ID{}
	for _, r := range canaryRecords(f.c) {
		byBase["records/"+opaqueName(t, dek, h.VaultID, "record\x00"+r.ID().String())] = r.ID()
	}
	re := regexp.MustCompile(`^(records/[a-z2-7]{32})\.([0-9a-f]+)\.avr$`)
	rfs := recordFiles(t, f.dir)
	if len(rfs) != len(byBase) {
		t.Fatalf("record files %v, want %d", rfs, len(byBase))
	}
	for _, rf := range rfs {
		m := re.FindStringSubmatch(rf)
		if m == nil {
			t.Fatalf("record file %q does not match records/<32 base32>.<hex>.avr", rf)
		}
		id, ok := byBase[m[1]]
		if !ok {
			t.Fatalf("record file %q is not the HMAC of any record id", rf)
		}
		gen, _ := strconv.ParseUint(m[2], 16, 64)
		blob, err := os.ReadFile(filepath.Join(f.dir, rf))
		if err != nil {
			t.Fatal(err)
		}
		pt, err := openEnvelope(t, dek, h.VaultID, "records", 'r', m[1], blob)
		if err != nil {
			t.Fatalf("%s: %v", rf, err)
		}
		if len(blob) != len(pt)+envelope.Overhead || envelope.Overhead != 34 {
			t.Errorf("%s: %d bytes for %d of plaintext: overhead is not 34", rf, len(blob), len(pt))
		}
		if !bytes.HasPrefix(pt, []byte(`{"v":1,"provider":"`+id.Provider+`",`)) {
			t.Errorf("%s: plaintext does not start with the canonical record JSON", rf)
		}
		rec, err := records.Unmarshal(pt)
		if err != nil {
			t.Fatal(err)
		}
		if rec.ID() != id || rec.Generation != gen {
			t.Errorf("%s holds %s generation %d", rf, rec.ID(), rec.Generation)
		}
		got, err := f.v.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := records.Marshal(got); !bytes.Equal(pt, want) {
			t.Errorf("%s: plaintext differs from the record Get returns", rf)
		}
		// Bound to its name: it does not open under another record's.
		for other := range byBase {
			if other != m[1] {
				if _, err := openEnvelope(t, dek, h.VaultID, "records", 'r', other, blob); err == nil {
					t.Errorf("%s opens under the name %s", rf, other)
				}
			}
		}
	}
}

// manifest.avm: sealed under the manifest key, bound to "manifest.avm",
// with the documented binary plaintext.
func TestFormatManifest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	h, _ := readHeader(t, f.dir)
	dek := f.dataKey(t)
	blob, err := os.ReadFile(filepath.Join(f.dir, "manifest.avm"))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := openEnvelope(t, dek, h.VaultID, "manifest", 'm', "manifest.avm", blob)
	if err != nil {
		t.Fatal(err)
	}
	version, gen, entries := parseManifest(t, pt)
	if version != 1 {
		t.Errorf("manifest version %d, want 1", version)
	}
	list, err := f.v.List(ctx, vault.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(list) {
		t.Fatalf("manifest has %d entries, List %d", len(entries), len(list))
	}
	kinds := map[records.Kind]byte{records.KindOAuth: 'o', records.KindAPI: 'a', records.KindWellKnown: 'w'}
	for i, e := range entries {
		l := list[i] // both sorted by provider, namespace, label
		if e.ID != l.ID || e.Kind != kinds[l.Kind] || e.Generation != l.Generation || e.Updated != l.Updated.UnixNano() {
			t.Errorf("entry %d: %+v, List says %+v", i, e, l)
		}
		if e.Generation > gen {
			t.Errorf("entry %d newer than the vault generation %d", i, gen)
		}
	}
	if gen != uint64(len(canaryRecords(f.c))) {
		t.Errorf("vault generation %d after %d commits", gen, len(canaryRecords(f.c)))
	}
}

// State blobs: state/<opaque name of "state\x00"+name>.avs holds the
// blob sealed under the state key, bound to that whole path; the
// plaintext is the
// uvarint-length-prefixed name, then the owner's bytes. Per-record locks
// are locks/<opaque name of "lock\x00"+id>.lock, and the pool's state is
// the blob "pool." + 16 hex digits of SHA-256(provider/namespace).
func TestFormatState(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	h, _ := readHeader(t, f.dir)
	dek := f.dataKey(t)
	file := "state/" + opaqueName(t, dek, h.VaultID, "state\x00canary-state") + ".avs"
	raw, err := os.ReadFile(filepath.Join(f.dir, file))
	if err != nil {
		t.Fatalf("state blob not where documented: %v", err)
	}
	pt, err := openEnvelope(t, dek, h.VaultID, "state", 's', file, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{byte(len("canary-state"))}, "canary-state"...)
	want = append(want, `{"note":"state of dave@example.com"}`...)
	if !bytes.Equal(pt, want) {
		t.Errorf("state plaintext %q, want %q", pt, want)
	}

	unlock, err := f.v.LockRecord(ctx, idOAuth)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	lock := filepath.Join(f.dir, "locks", opaqueName(t, dek, h.VaultID, "lock\x00"+idOAuth.String())+".lock")
	if _, err := os.Lstat(lock); err != nil {
		t.Errorf("record lock not where documented: %v", err)
	}

	key := pool.Key{Provider: "anthropic", Namespace: "default"}
	p, err := pool.Open(ctx, f.v, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Disable(ctx, idOAuth, "operator"); err != nil {
		t.Fatal(err)
	}
	p.Close()
	data, _, err := f.v.ReadState(ctx, poolStateName(key))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]json.RawMessage
	if err := json.Unmarshal(data, &st); err != nil || string(st["v"]) != "1" || st["order"] == nil || st["accounts"] == nil || len(st) != 3 {
		t.Errorf("pool state is not {\"v\":1,\"order\":…,\"accounts\":…}: %s", data)
	}

	if vault.MaxStateSize != 16<<20 {
		t.Errorf("MaxStateSize is %d", vault.MaxStateSize)
	}
	_, err = f.v.UpdateState(ctx, "big", func([]byte) ([]byte, error) { return make([]byte, vault.MaxStateSize+1), nil })
	if err == nil {
		t.Error("a state blob over MaxStateSize was written")
	}
}

// Versions: every format carries its version and a reader refuses one it
// does not know, before using anything else in it.
func TestFormatVersionsRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	h, raw := readHeader(t, f.dir)
	dek := f.dataKey(t)
	keys, err := envelope.DeriveKeys(dek, h.VaultID)
	if err != nil {
		t.Fatal(err)
	}
	ids := []age.Identity{f.c.identity}

	t.Run("vault.json format", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "v")
		copyDir(t, f.dir, dir)
		writeFile(t, filepath.Join(dir, "vault.json"), bytes.Replace(raw, []byte(`"format": 1,`), []byte(`"format": 2,`), 1))
		if _, err := vault.Open(ctx, dir, ids); !errors.Is(err, vault.ErrUnsupportedVersion) {
			t.Fatalf("Open: %v, want ErrUnsupportedVersion", err)
		}
	})
	t.Run("vault.json unknown field", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "v")
		copyDir(t, f.dir, dir)
		writeFile(t, filepath.Join(dir, "vault.json"), bytes.Replace(raw, []byte(`"format": 1,`), []byte(`"format": 1, "extra": true,`), 1))
		if _, err := vault.Open(ctx, dir, ids); !errors.Is(err, vault.ErrCorrupt) {
			t.Fatalf("Open: %v, want ErrCorrupt", err)
		}
	})
	t.Run("envelope version", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "v")
		copyDir(t, f.dir, dir)
		p := filepath.Join(dir, "manifest.avm")
		b := readFile(t, p)
		b[4] = 2
		writeFile(t, p, b)
		if _, err := vault.Open(ctx, dir, ids); !errors.Is(err, records.ErrEnvelopeVersion) {
			t.Fatalf("Open: %v, want ErrEnvelopeVersion", err)
		}
	})
	t.Run("manifest version", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "v")
		copyDir(t, f.dir, dir)
		pt := binary.AppendUvarint(nil, 2)
		pt = binary.AppendUvarint(pt, 9)
		pt = binary.AppendUvarint(pt, 0)
		blob, err := keys.Seal(envelope.BlobManifest, "manifest.avm", pt)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "manifest.avm"), blob)
		if _, err := vault.Open(ctx, dir, ids); !errors.Is(err, vault.ErrUnsupportedVersion) {
			t.Fatalf("Open: %v, want ErrUnsupportedVersion", err)
		}
	})
	t.Run("record version", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "v")
		copyDir(t, f.dir, dir)
		v := openDir(t, dir, f.c.identity)
		e := entryOf(t, v, idAPI)
		base := "records/" + opaqueName(t, dek, h.VaultID, "record\x00"+idAPI.String())
		pt := fmt.Sprintf(`{"v":2,"provider":"openai","namespace":"default","label":"bob@example.com","kind":"api","api":{"key":"k"},"generation":%d}`, e.Generation)
		blob, err := keys.Seal(envelope.BlobRecord, base, []byte(pt))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, base+"."+strconv.FormatUint(e.Generation, 16)+".avr"), blob)
		_, err = openDir(t, dir, f.c.identity).Get(ctx, idAPI)
		if !errors.Is(err, vault.ErrCorrupt) || !strings.Contains(err.Error(), records.ErrUnsupportedVersion.Error()) {
			t.Fatalf("Get: %v, want ErrCorrupt naming the unsupported version", err)
		}
	})
	t.Run("pool state version", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "v")
		copyDir(t, f.dir, dir)
		v := openDir(t, dir, f.c.identity)
		key := pool.Key{Provider: "openai", Namespace: "default"}
		newer := []byte(`{"v":2,"from":"a newer authvault"}`)
		if _, err := v.UpdateState(ctx, poolStateName(key), func([]byte) ([]byte, error) { return newer, nil }); err != nil {
			t.Fatal(err)
		}
		p, err := pool.Open(ctx, v, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Health(); !errors.Is(err, pool.ErrNewerState) {
			t.Errorf("Health: %v, want ErrNewerState", err)
		}
		if err := p.Close(); err != nil && !errors.Is(err, pool.ErrNewerState) {
			t.Fatal(err)
		}
		got, _, err := v.ReadState(ctx, poolStateName(key))
		if err != nil || !bytes.Equal(got, newer) {
			t.Errorf("a newer pool state was overwritten: %q, %v", got, err)
		}
	})
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile replaces p with data as an attacker would: a new file of the
// same mode.
func writeFile(t testing.TB, p string, data []byte) {
	t.Helper()
	tmp := p + ".attacker"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

func openDir(t testing.TB, dir string, id age.Identity) *vault.Vault {
	t.Helper()
	v, err := vault.Open(context.Background(), dir, []age.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func entryOf(t testing.TB, v *vault.Vault, id records.ID) vault.Entry {
	t.Helper()
	list, err := v.List(context.Background(), vault.Filter{Provider: id.Provider, Namespace: id.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("%s not in the manifest", id)
	return vault.Entry{}
}

// The default vault key is post-quantum: a hybrid ML-KEM-768 + X25519 age
// identity.
func TestDefaultKeyIsPostQuantum(t *testing.T) {
	var zero keysource.Kind
	if zero != keysource.PostQuantum {
		t.Fatal("the zero key kind is not PostQuantum")
	}
	id, enc, rcpt, err := keysource.GenerateIdentity(zero)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := id.(*age.HybridIdentity); !ok || !strings.HasPrefix(enc, "AGE-SECRET-KEY-PQ-1") || !strings.HasPrefix(rcpt, "age1pq1") {
		t.Errorf("default key is %T %.20s… for %.12s…", id, enc, rcpt)
	}
}

// poolStateName is the documented name of a pool's state blob: "pool."
// and the first 8 bytes of the SHA-256 of "provider/namespace", in hex.
func poolStateName(k pool.Key) string {
	sum := sha256.Sum256([]byte(k.Provider + "/" + k.Namespace))
	return "pool." + hex.EncodeToString(sum[:8])
}
