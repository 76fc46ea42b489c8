package fuzz

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/backup"
)

// FuzzBackupUnmarshal: the backup decoder never panics, every refusal
// wraps backup.ErrInvalid, and whatever it accepts encodes again to a
// backup that decodes to the same bundle.
func FuzzBackupUnmarshal(f *testing.F) {
	exported := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, b := range []*backup.Bundle{
		{VaultID: "v1", Exported: exported, Records: seedRecords(), HasRecords: true},
		{VaultID: "v1", Exported: exported, Identity: "AGE-SECRET-KEY-1D254M02LNYTJ0R9265KJHAYJHS586XT5789A2J4UH30E6CH3XLMSS62ZHZ"},
		{VaultID: "v1", Exported: exported, HasRecords: true},
	} {
		data, err := backup.Marshal(b)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := backup.Unmarshal(data); err != nil {
			f.Fatalf("seed: %v", err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"format":"authvault-backup/2","vault_id":"v","exported":"2025-01-01T00:00:00Z","records":[]}`))
	f.Add([]byte(`{"format":"authvault-backup/1","vault_id":"v","exported":"2025-01-01T00:00:00+02:00","records":[{"v":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := backup.Unmarshal(data)
		if err != nil {
			if b != nil || !errors.Is(err, backup.ErrInvalid) {
				t.Fatalf("refusal %v (bundle %v): want a nil bundle and ErrInvalid", err, b != nil)
			}
			return
		}
		again, err := backup.Marshal(b)
		if err != nil {
			t.Fatalf("an accepted bundle does not encode: %v", err)
		}
		b2, err := backup.Unmarshal(again)
		if err != nil {
			t.Fatalf("a re-encoded bundle does not decode: %v", err)
		}
		if d := cmp.Diff(b, b2, cmpopts.EquateEmpty(), cmpopts.EquateApproxTime(0)); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}
