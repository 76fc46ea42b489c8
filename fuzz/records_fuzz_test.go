package fuzz

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/records"
)

func seedRecords() []*records.Record {
	return []*records.Record{
		{Provider: "anthropic", Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
			OAuth: &records.OAuth{Access: "a", Refresh: "r", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 5, time.UTC), Scopes: []string{"s"}},
			Meta:  map[string]string{"plan": "pro"}, Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Generation: 3},
		{Provider: "openai", Namespace: "work", Label: "ci", Kind: records.KindAPI, API: &records.APIKey{Key: "sk-\n\"x\u2028"}},
		{Provider: "x", Namespace: "n", Label: "l", Kind: records.KindWellKnown, WellKnown: &records.WellKnown{Key: "https://x", Token: "t"}},
	}
}

// FuzzRecordCodec: Unmarshal never panics, and whatever it accepts
// re-encodes to the same bytes and decodes to an equal record.
func FuzzRecordCodec(f *testing.F) {
	for _, r := range seedRecords() {
		b, err := records.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1,"provider":"a","namespace":"b","label":"c","kind":"api","api":{"key":"k"},"generation":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := records.Unmarshal(data)
		if err != nil {
			if r != nil {
				t.Fatal("record returned with an error")
			}
			return
		}
		enc, err := records.Marshal(r)
		if err != nil {
			t.Fatalf("accepted record does not re-encode: %v", err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("accepted a non-canonical encoding:\n%q\n%q", data, enc)
		}
		r2, err := records.Unmarshal(enc)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, r2, cmpopts.EquateEmpty()); diff != "" {
			t.Fatal(diff)
		}
	})
}

// validEnvelopeHex is {"v":1} sealed as a record named "records/x" in
// vault "fuzz-vault" under a data key of 32 bytes of 9.
const validEnvelopeHex = "415642310172d25ab09b0e6069a02ee07cb997572253976a5243f2f42e0fdb87707e579185019bc9b9"

// FuzzSealedEnvelope: arbitrary bytes never panic and never open; a valid
// blob with any byte changed never opens.
func FuzzSealedEnvelope(f *testing.F) {
	keys, err := envelope.DeriveKeys(bytes.Repeat([]byte{9}, envelope.DataKeySize), "fuzz-vault")
	if err != nil {
		f.Fatal(err)
	}
	// A blob sealed once with these keys, fixed so that every fuzzing
	// process agrees on it (Seal draws a random nonce).
	valid, err := hex.DecodeString(validEnvelopeHex)
	if err != nil {
		f.Fatal(err)
	}
	if pt, err := keys.Open(envelope.BlobRecord, "records/x", valid); err != nil || string(pt) != `{"v":1}` {
		f.Fatalf("the fixed blob does not open: %v", err)
	}
	f.Add([]byte{}, -1, byte(0))
	f.Add(valid, -1, byte(0))
	f.Add(valid, 0, byte(1))
	f.Add(valid, len(valid)-1, byte(0x80))
	f.Add([]byte("AVB1\x01r"), 3, byte(1))
	f.Fuzz(func(t *testing.T, data []byte, pos int, flip byte) {
		if _, err := keys.Open(envelope.BlobRecord, "records/x", data); err == nil && !bytes.Equal(data, valid) {
			t.Fatal("arbitrary bytes opened")
		}
		if pos < 0 || flip == 0 {
			return
		}
		c := bytes.Clone(valid)
		c[pos%len(c)] ^= flip
		if _, err := keys.Open(envelope.BlobRecord, "records/x", c); err == nil {
			t.Fatalf("blob with byte %d changed opened", pos%len(c))
		}
	})
}
