//go:build unix

package securitytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
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
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// A thief of the disk or a backup, without the key, learns nothing from
// the vault's bytes or its file names: no secret, no account name, no
// provider, no metadata.
func TestDiskRevealsNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// Give the directory everything it can hold: a pool state, a record
	// lock, an older generation, a deleted record.
	p, err := pool.Open(ctx, f.v, pool.Key{Provider: "anthropic", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.Acquire(ctx, pool.Hint{Session: "session-of-erin@example.com", Model: "claude-model"})
	if err != nil {
		t.Fatal(err)
	}
	p.Report(l, pool.Outcome{Kind: pool.RateLimited, Reason: "rate_limit_error", Until: time.Now().Add(time.Minute)})
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	unlock, err := f.v.LockRecord(ctx, idOAuth)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := f.v.Update(ctx, idAPI, func(r *records.Record) error { r.Meta = map[string]string{"plan": "plan-pro"}; return nil }); err != nil {
		t.Fatal(err)
	}
	gone := &records.Record{Provider: "deleted-provider", Namespace: "default", Label: "frank@example.com", Kind: records.KindAPI, API: &records.APIKey{Key: "deleted-key-0123456789"}}
	if _, err := f.v.Put(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := f.v.Delete(ctx, gone.ID()); err != nil {
		t.Fatal(err)
	}

	public := []string{"alice", "bob", "carol", "dave", "erin", "frank", "example.com", "anthropic", "openai",
		"wellknown-test", "deleted-provider", "\"work\"", "acct-1", "client-1", "user:inference", "auth.example.com", "plan-pro", "claude-model",
		"rate_limit_error", "deleted-key"}
	f.c.add("deleted key", "deleted-key-0123456789")
	name := regexp.MustCompile(`^(vault\.json|manifest\.avm|\.lock|records/[a-z2-7]{32}\.[0-9a-f]+\.avr|state/[a-z2-7]{32}\.avs|locks/[a-z2-7]{32}\.lock)$`)
	opaque := regexp.MustCompile(`[a-z2-7]{32}`)
	for _, file := range files(t, f.dir) {
		if !name.MatchString(file) {
			t.Errorf("file name %q is not one of the documented opaque names", file)
		}
		data := readFile(t, filepath.Join(f.dir, file))
		f.c.check(t, file, string(data))
		if file == "vault.json" {
			// The wrapped data key and the MAC are random base64, which
			// spells short words by chance: look at the other fields.
			var h map[string]any
			if err := json.Unmarshal(data, &h); err != nil {
				t.Fatal(err)
			}
			delete(h, "data_key")
			delete(h, "mac")
			data, _ = json.Marshal(h)
		}
		// The 32 base32 letters of an opaque name are an HMAC: they spell
		// short words by chance, so only the rest of the name is checked.
		visible := opaque.ReplaceAllString(file, "")
		for _, s := range public {
			if bytes.Contains(bytes.ToLower(data), []byte(s)) || strings.Contains(visible, s) {
				t.Errorf("%s reveals %q", file, s)
			}
		}
	}
}

// The wrong key, or none, opens nothing, and says so without a secret.
func TestWrongKeyRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	for name, ids := range map[string][]age.Identity{"X25519": {x}, "post-quantum": {pq}, "none": nil} {
		v, err := vault.Open(ctx, f.dir, ids)
		if !errors.Is(err, vault.ErrWrongKey) || v != nil {
			t.Errorf("%s key: Open gave %v, want ErrWrongKey", name, err)
		}
		f.c.checkErr(t, name+" key", err)
	}
}

// tamperErr reports whether err is one of the errors tampering must give.
func tamperErr(err error) bool {
	return errors.Is(err, vault.ErrTampered) || errors.Is(err, records.ErrEnvelopeFormat) ||
		errors.Is(err, records.ErrEnvelopeVersion) || errors.Is(err, vault.ErrCorrupt)
}

// Every byte of a record, of the manifest and of a state blob is
// authenticated: any change, and any truncation, is an error, never
// different data; the header's public fields are bound by its MAC.
func TestTamperDetected(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.v.Close()
	ids := []age.Identity{f.c.identity}
	record := onlyFileOf(t, f, idAPI)
	mutations := func(b []byte) map[string][]byte {
		out := map[string][]byte{}
		for i := range b {
			c := bytes.Clone(b)
			c[i] ^= 1 << (i % 8)
			out["flip byte "+strconv.Itoa(i)] = c
		}
		for _, n := range []int{0, 1, 5, 6, 17, 18, 33, len(b) - 16, len(b) - 1} {
			out["truncate to "+strconv.Itoa(n)] = bytes.Clone(b[:n])
		}
		out["extended"] = append(bytes.Clone(b), 0)
		return out
	}
	t.Run("record", func(t *testing.T) {
		orig := readFile(t, record)
		for what, b := range mutations(orig) {
			writeFile(t, record, b)
			v := f.open(t)
			got, err := v.Get(ctx, idAPI)
			if got != nil || !tamperErr(err) {
				t.Fatalf("%s: Get gave %v, %v", what, got, err)
			}
			f.c.checkErr(t, what, err)
			_, err = v.Verify(ctx)
			if !tamperErr(err) {
				t.Fatalf("%s: Verify gave %v", what, err)
			}
			f.c.checkErr(t, what+" Verify", err)
			v.Close()
		}
		writeFile(t, record, orig)
	})
	t.Run("manifest", func(t *testing.T) {
		p := filepath.Join(f.dir, "manifest.avm")
		orig := readFile(t, p)
		for what, b := range mutations(orig) {
			writeFile(t, p, b)
			v, err := vault.Open(ctx, f.dir, ids)
			if v != nil || !tamperErr(err) {
				t.Fatalf("%s: Open gave %v", what, err)
			}
			f.c.checkErr(t, what, err)
		}
		writeFile(t, p, orig)
	})
	t.Run("state", func(t *testing.T) {
		p := stateFileOf(t, f, "canary-state")
		v := f.open(t)
		orig := readFile(t, p)
		for what, b := range mutations(orig) {
			writeFile(t, p, b)
			data, _, err := v.ReadState(ctx, "canary-state")
			if data != nil || !tamperErr(err) {
				t.Fatalf("%s: ReadState gave %q, %v", what, data, err)
			}
			f.c.checkErr(t, what, err)
		}
		writeFile(t, p, orig)
	})
	t.Run("vault.json", func(t *testing.T) {
		p := filepath.Join(f.dir, "vault.json")
		orig := readFile(t, p)
		h, _ := readHeader(t, f.dir)
		attacker, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		edits := map[string]func(h *headerFile){
			"recipient added":    func(h *headerFile) { h.Recipients = append(h.Recipients, attacker.Recipient().String()) },
			"recipient replaced": func(h *headerFile) { h.Recipients = []string{attacker.Recipient().String()} },
			"vault id changed":   func(h *headerFile) { h.VaultID = "AAAAAAAAAAAAAAAAAAAAAA" },
			"created changed":    func(h *headerFile) { h.Created = h.Created.Add(time.Second) },
			"mac flipped":        func(h *headerFile) { h.MAC = flipBase64(h.MAC) },
			"mac removed":        func(h *headerFile) { h.MAC = "" },
			"data key truncated": func(h *headerFile) { h.DataKey = h.DataKey[:len(h.DataKey)/2] },
		}
		for i := len(armor.Header) + 1; i < len(h.DataKey)-len(armor.Footer)-2; i += 37 {
			if h.DataKey[i] == '\n' {
				i++
			}
			edits["data key byte "+strconv.Itoa(i)] = func(h *headerFile) {
				b := []byte(h.DataKey)
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				h.DataKey = string(b)
			}
		}
		for what, edit := range edits {
			hh := *h
			hh.Recipients = append([]string(nil), h.Recipients...)
			edit(&hh)
			writeFile(t, p, marshalHeader(t, &hh))
			v, err := vault.Open(ctx, f.dir, ids)
			if v != nil || err == nil {
				t.Fatalf("%s: Open succeeded", what)
			}
			if !tamperErr(err) && !errors.Is(err, vault.ErrWrongKey) {
				t.Errorf("%s: Open gave %v, want a tampering error", what, err)
			}
			f.c.checkErr(t, what, err)
		}
		writeFile(t, p, orig)
	})
	if _, err := f.open(t).Verify(ctx); err != nil {
		t.Fatalf("restored vault: %v", err)
	}
}

func flipBase64(s string) string {
	b, _ := base64.StdEncoding.DecodeString(s)
	b[0] ^= 1
	return base64.StdEncoding.EncodeToString(b)
}

func marshalHeader(t testing.TB, h *headerFile) []byte {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"format\": %d,\n  \"vault_id\": %q,\n  \"created\": %q,\n  \"recipients\": [", h.Format, h.VaultID, h.Created.Format(time.RFC3339Nano))
	for i, r := range h.Recipients {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    %q", r)
	}
	fmt.Fprintf(&b, "\n  ],\n  \"data_key\": %s,\n  \"mac\": %q\n}\n", strconv.Quote(h.DataKey), h.MAC)
	return b.Bytes()
}

// onlyFileOf returns the record file of id.
func onlyFileOf(t testing.TB, f *fixture, id records.ID) string {
	t.Helper()
	h, _ := readHeader(t, f.dir)
	base := opaqueName(t, f.dataKey(t), h.VaultID, "record\x00"+id.String())
	for _, rf := range recordFiles(t, f.dir) {
		if strings.HasPrefix(rf, "records/"+base+".") {
			return filepath.Join(f.dir, filepath.FromSlash(rf))
		}
	}
	t.Fatalf("no record file for %s", id)
	return ""
}

func stateFileOf(t testing.TB, f *fixture, name string) string {
	t.Helper()
	h, _ := readHeader(t, f.dir)
	return filepath.Join(f.dir, "state", opaqueName(t, f.dataKey(t), h.VaultID, "state\x00"+name)+".avs")
}

// Blobs are bound to their vault, kind and name: swapping two records,
// moving a blob to another name or kind, or bringing one from another
// vault fails authentication.
func TestSwapDetected(t *testing.T) {
	ctx := context.Background()
	t.Run("two records swapped", func(t *testing.T) {
		f := newFixture(t)
		a, b := onlyFileOf(t, f, idAPI), onlyFileOf(t, f, idWK)
		da, db := readFile(t, a), readFile(t, b)
		writeFile(t, a, db)
		writeFile(t, b, da)
		v := f.open(t)
		for _, id := range []records.ID{idAPI, idWK} {
			if got, err := v.Get(ctx, id); got != nil || !errors.Is(err, vault.ErrTampered) {
				t.Errorf("%s: Get gave %v, %v", id, got, err)
			}
		}
	})
	t.Run("record moved into a state blob's place", func(t *testing.T) {
		f := newFixture(t)
		s := stateFileOf(t, f, "canary-state")
		writeFile(t, s, readFile(t, onlyFileOf(t, f, idAPI)))
		if _, _, err := f.open(t).ReadState(ctx, "canary-state"); !errors.Is(err, vault.ErrTampered) {
			t.Errorf("ReadState: %v", err)
		}
	})
	t.Run("state blob under another state name", func(t *testing.T) {
		f := newFixture(t)
		if _, err := f.v.UpdateState(ctx, "other", func([]byte) ([]byte, error) { return []byte("x"), nil }); err != nil {
			t.Fatal(err)
		}
		writeFile(t, stateFileOf(t, f, "other"), readFile(t, stateFileOf(t, f, "canary-state")))
		if _, _, err := f.open(t).ReadState(ctx, "other"); !errors.Is(err, vault.ErrTampered) {
			t.Errorf("ReadState: %v", err)
		}
	})
	t.Run("files from another vault with the same key", func(t *testing.T) {
		f := newFixture(t)
		// A second vault encrypted to the same recipient: another vault id,
		// another data key.
		r, _ := vault.ParseRecipient(f.c.Recipient)
		dir2 := filepath.Join(t.TempDir(), "v2")
		v2, err := vault.Create(ctx, dir2, []age.Recipient{r})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v2.Put(ctx, canaryRecords(f.c)[1]); err != nil {
			t.Fatal(err)
		}
		v2.Close()
		writeFile(t, filepath.Join(f.dir, "manifest.avm"), readFile(t, filepath.Join(dir2, "manifest.avm")))
		if _, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}); !errors.Is(err, vault.ErrTampered) {
			t.Errorf("foreign manifest: Open gave %v", err)
		}
	})
}

// Rolling back one record, or the manifest while newer record files
// remain, is detected; so is deleting a record file.
func TestRollbackAndDeletionDetected(t *testing.T) {
	ctx := context.Background()
	bump := func(t *testing.T, v *vault.Vault) {
		t.Helper()
		if _, err := v.Update(ctx, idAPI, func(r *records.Record) error { r.Meta = map[string]string{"v": "new"}; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("older copy of a record", func(t *testing.T) {
		f := newFixture(t)
		p := onlyFileOf(t, f, idAPI)
		old := readFile(t, p)
		bump(t, f.v)
		writeFile(t, onlyFileOf(t, f, idAPI), old)
		if got, err := f.open(t).Get(ctx, idAPI); got != nil || !errors.Is(err, vault.ErrRollback) {
			t.Errorf("fresh process: Get gave %v, %v", got, err)
		}
	})
	t.Run("older manifest, newer record files left", func(t *testing.T) {
		f := newFixture(t)
		mp := filepath.Join(f.dir, "manifest.avm")
		oldManifest := readFile(t, mp)
		oldRecord := readFile(t, onlyFileOf(t, f, idAPI))
		oldName := onlyFileOf(t, f, idAPI)
		bump(t, f.v)
		bump(t, f.v)
		// The old manifest and the old record file back: a consistent
		// older state, but the newer record file is still there.
		writeFile(t, mp, oldManifest)
		writeFile(t, oldName, oldRecord)
		if _, err := f.v.Get(ctx, idAPI); !errors.Is(err, vault.ErrRollback) {
			t.Errorf("the process that saw the newer manifest: Get gave %v", err)
		}
		if _, err := f.open(t).Verify(ctx); !errors.Is(err, vault.ErrRollback) {
			t.Errorf("fresh process: Verify gave %v", err)
		}
		if _, err := f.open(t).Sweep(ctx); !errors.Is(err, vault.ErrRollback) {
			t.Errorf("Sweep must keep the evidence: %v", err)
		}
	})
	t.Run("manifest one commit older", func(t *testing.T) {
		// A record file one generation ahead of the manifest is what a
		// crash between the record's write and the manifest's leaves: it
		// is an orphan, not evidence. Rolling back exactly one commit is
		// therefore seen only by a process that saw the newer manifest.
		f := newFixture(t)
		mp := filepath.Join(f.dir, "manifest.avm")
		oldManifest := readFile(t, mp)
		oldRecord := readFile(t, onlyFileOf(t, f, idAPI))
		oldName := onlyFileOf(t, f, idAPI)
		bump(t, f.v)
		writeFile(t, mp, oldManifest)
		writeFile(t, oldName, oldRecord)
		if _, err := f.v.Get(ctx, idAPI); !errors.Is(err, vault.ErrRollback) {
			t.Errorf("the process that saw the newer manifest: Get gave %v", err)
		}
		rep, err := f.open(t).Verify(ctx)
		if err != nil || rep.Orphans != 1 {
			t.Errorf("fresh process: Verify gave %+v, %v; want one orphan and no error (a documented limit)", rep, err)
		}
	})
	t.Run("record checked against the manifest", func(t *testing.T) {
		// Sealed with the right key under the record's own name, but
		// holding another id, or a generation the manifest does not name.
		f := newFixture(t)
		h, _ := readHeader(t, f.dir)
		keys, err := envelope.DeriveKeys(f.dataKey(t), h.VaultID)
		if err != nil {
			t.Fatal(err)
		}
		gen := entryOf(t, f.v, idAPI).Generation
		base := "records/" + keys.FileName("record\x00"+idAPI.String())
		for label, want := range map[string]error{"someone-else": vault.ErrTampered, "bob@example.com": vault.ErrCorrupt} {
			rec := &records.Record{Provider: "openai", Namespace: "default", Label: label, Kind: records.KindAPI,
				API: &records.APIKey{Key: "k"}, Generation: gen}
			if want == vault.ErrCorrupt {
				rec.Generation = gen + 1
			}
			pt, err := records.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			blob, err := keys.Seal(envelope.BlobRecord, base, pt)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, onlyFileOf(t, f, idAPI), blob)
			if got, err := f.open(t).Get(ctx, idAPI); got != nil || !errors.Is(err, want) {
				t.Errorf("%s at generation %d: Get gave %v, %v; want %v", label, rec.Generation, got, err, want)
			}
		}
	})
	t.Run("record file deleted", func(t *testing.T) {
		f := newFixture(t)
		if err := os.Remove(onlyFileOf(t, f, idAPI)); err != nil {
			t.Fatal(err)
		}
		if got, err := f.open(t).Get(ctx, idAPI); got != nil || !errors.Is(err, vault.ErrMissing) {
			t.Errorf("Get gave %v, %v", got, err)
		}
		if _, err := f.open(t).Verify(ctx); !errors.Is(err, vault.ErrMissing) {
			t.Errorf("Verify gave %v", err)
		}
	})
	t.Run("manifest deleted", func(t *testing.T) {
		f := newFixture(t)
		os.Remove(filepath.Join(f.dir, "manifest.avm"))
		if _, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}); !errors.Is(err, vault.ErrMissing) {
			t.Errorf("Open gave %v", err)
		}
	})
}

// Not detected: the whole directory put back to an older consistent copy,
// by a process that never saw the newer one. A process that did see it
// refuses the older manifest.
func TestWholeVaultRollbackNotDetected(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	snapshot := filepath.Join(t.TempDir(), "snapshot")
	copyDir(t, f.dir, snapshot)
	if _, err := f.v.Update(ctx, idAPI, func(r *records.Record) error { r.API.Key = "rotated-key"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(f.dir); err != nil {
		t.Fatal(err)
	}
	copyDir(t, snapshot, f.dir)

	got, err := f.open(t).Get(ctx, idAPI)
	if err != nil || got.API.Key.Reveal() != f.c.APIKey {
		t.Fatalf("a fresh process should read the older copy without error (a documented limit): %v", err)
	}
	if _, err := f.open(t).Verify(ctx); err != nil {
		t.Fatalf("Verify of a consistent older copy: %v", err)
	}
	if _, err := f.v.Get(ctx, idAPI); !errors.Is(err, vault.ErrRollback) {
		t.Errorf("the process that saw the newer vault: Get gave %v, want ErrRollback", err)
	}
}

// State blobs (pool cooldowns, counters) are authenticated but not
// protected against rollback: an older copy put back is read as is. A
// tampered one is refused, and the pool starts from a clean state: its
// cooldowns are forgotten, while an operator's decisions, kept in the
// records, hold.
func TestStateBlobRollbackNotDetected(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := stateFileOf(t, f, "canary-state")
	old := readFile(t, p)
	if _, err := f.v.UpdateState(ctx, "canary-state", func([]byte) ([]byte, error) { return []byte("newer"), nil }); err != nil {
		t.Fatal(err)
	}
	writeFile(t, p, old)
	data, _, err := f.open(t).ReadState(ctx, "canary-state")
	if err != nil || !strings.Contains(string(data), "dave@example.com") {
		t.Fatalf("an older state blob should be read without error (a documented limit): %q, %v", data, err)
	}

	key := pool.Key{Provider: "anthropic", Namespace: "default"}
	pl, err := pool.Open(ctx, f.v, key)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := pl.Acquire(ctx, pool.Hint{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Report(lease, pool.Outcome{Kind: pool.RateLimited, Status: 429}); err != nil {
		t.Fatal(err)
	}
	if err := pl.Disable(ctx, idOAuth, "operator"); err != nil {
		t.Fatal(err)
	}
	pl.Close()
	ps := stateFileOf(t, f, poolStateName(key))
	blob := readFile(t, ps)
	blob[len(blob)-1] ^= 1
	writeFile(t, ps, blob)
	pl, err = pool.Open(ctx, f.open(t), key)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if err := pl.Health(); !errors.Is(err, vault.ErrTampered) {
		t.Errorf("Health: %v, want ErrTampered", err)
	}
	if a, err := pl.Account(ctx, idOAuth); err != nil || len(a.Cooldowns) != 0 {
		t.Errorf("a tampered pool state must not be used: %+v, %v", a, err)
	} else if !a.Disabled || a.DisabledReason != "operator" {
		t.Errorf("the operator's decision, kept in the record, was lost: %+v", a)
	}
}

// Not detected: a whole vault forged by someone who only knows the public
// recipients. age does not authenticate who encrypted, so a writer can put
// in a vault of their own making, with the same vault id, and it opens.
func TestForgedVaultNotDetected(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	h, _ := readHeader(t, f.dir)
	f.v.Close()

	// The attacker's side: the public header only.
	dek := make([]byte, 32)
	rand.Read(dek)
	keys, err := envelope.DeriveKeys(dek, h.VaultID)
	if err != nil {
		t.Fatal(err)
	}
	var rs []age.Recipient
	for _, s := range h.Recipients {
		r, err := vault.ParseRecipient(s)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	var armored bytes.Buffer
	aw := armor.NewWriter(&armored)
	w, err := age.Encrypt(aw, rs...)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(dek)
	w.Close()
	aw.Close()
	forged := *h
	forged.DataKey = armored.String()
	forged.MAC = headerMAC(t, dek, &forged)

	rec := &records.Record{Provider: "openai", Namespace: "default", Label: "bob@example.com", Kind: records.KindAPI,
		API: &records.APIKey{Key: "attacker-key"}, Generation: 1}
	pt, err := records.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	base := "records/" + keys.FileName("record\x00"+rec.ID().String())
	blob, err := keys.Seal(envelope.BlobRecord, base, pt)
	if err != nil {
		t.Fatal(err)
	}
	m := binary.AppendUvarint(nil, 1)
	m = binary.AppendUvarint(m, 1)
	m = binary.AppendUvarint(m, 1)
	for _, s := range []string{rec.Provider, rec.Namespace, rec.Label} {
		m = binary.AppendUvarint(m, uint64(len(s)))
		m = append(m, s...)
	}
	m = append(m, 'a')
	m = binary.AppendUvarint(m, 1)
	m = binary.AppendVarint(m, 0)
	man, err := keys.Seal(envelope.BlobManifest, "manifest.avm", m)
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(f.dir, "records"))
	os.RemoveAll(filepath.Join(f.dir, "state"))
	os.Mkdir(filepath.Join(f.dir, "records"), 0o700)
	writeFile(t, filepath.Join(f.dir, base+".1.avr"), blob)
	writeFile(t, filepath.Join(f.dir, "manifest.avm"), man)
	writeFile(t, filepath.Join(f.dir, "vault.json"), marshalHeader(t, &forged))

	v := f.open(t)
	got, err := v.Get(ctx, idAPI)
	if err != nil || got.API.Key.Reveal() != "attacker-key" {
		t.Fatalf("the forged vault should open (a documented limit): %v", err)
	}
}

// Removing a recipient rotates the data key: the removed key opens
// nothing written from then on, but still opens copies taken before.
func TestRecipientRemovalRotates(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// age refuses to mix post-quantum and classic recipients in one file:
	// a vault's key slots are all of one kind.
	removed, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	classic, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.v.AddRecipient(ctx, classic.Recipient()); err == nil {
		t.Error("a classic recipient was added to a post-quantum vault")
	}
	if err := f.v.AddRecipient(ctx, removed.Recipient()); err != nil {
		t.Fatal(err)
	}
	if _, err := openDir(t, f.dir, removed).Get(ctx, idAPI); err != nil {
		t.Fatalf("added recipient cannot read: %v", err)
	}
	before := filepath.Join(t.TempDir(), "before")
	copyDir(t, f.dir, before)
	oldDEK := f.dataKey(t)

	if err := f.v.RemoveRecipient(ctx, removed.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(ctx, f.dir, []age.Identity{removed}); !errors.Is(err, vault.ErrWrongKey) {
		t.Errorf("removed key: Open gave %v, want ErrWrongKey", err)
	}
	if bytes.Equal(oldDEK, f.dataKey(t)) {
		t.Error("the data key did not change")
	}
	// The new files do not open under the old data key either.
	h, _ := readHeader(t, f.dir)
	mb := readFile(t, filepath.Join(f.dir, "manifest.avm"))
	if _, err := openEnvelope(t, oldDEK, h.VaultID, "manifest", 'm', "manifest.avm", mb); err == nil {
		t.Error("the new manifest opens with the old data key")
	}
	if got, err := openDir(t, before, removed).Get(ctx, idAPI); err != nil || got.API.Key.Reveal() != f.c.APIKey {
		t.Errorf("a copy taken before the removal should stay readable by the removed key (a documented limit): %v", err)
	}
	if _, err := f.open(t).Get(ctx, idAPI); err != nil {
		t.Errorf("remaining key: %v", err)
	}
}

// A state blob is rewritten in place: a crash in the middle of a write
// leaves the new blob's start over the old one's tail. That reads as
// tampered, the next write starts afresh, and the records are untouched.
func TestStateTornByCrash(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := stateFileOf(t, f, "torn")
	write := func(data string) []byte {
		t.Helper()
		if _, err := f.v.UpdateState(ctx, "torn", func([]byte) ([]byte, error) { return []byte(data), nil }); err != nil {
			t.Fatal(err)
		}
		return readFile(t, p)
	}
	short := write("short")
	long := write(strings.Repeat("long ", 100))
	writeFile(t, p, append(append([]byte(nil), short...), long[len(short):]...))
	if _, _, err := f.v.ReadState(ctx, "torn"); !errors.Is(err, vault.ErrTampered) && !errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("torn state: %v, want ErrTampered or ErrCorrupt", err)
	}
	if _, err := f.v.UpdateState(ctx, "torn", func(old []byte) ([]byte, error) {
		if old != nil {
			t.Errorf("a torn blob was passed on as the old state")
		}
		return []byte("fresh"), nil
	}); err != nil {
		t.Fatal(err)
	}
	if data, _, err := f.v.ReadState(ctx, "torn"); err != nil || string(data) != "fresh" {
		t.Fatalf("after a fresh write: %v", err)
	}
	if _, err := f.v.Get(ctx, idAPI); err != nil {
		t.Fatal(err)
	}
}
