package redisstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// benchRecord is the vault package's benchmark record: a typical OAuth
// account.
func benchRecord(label string) *records.Record {
	return oauthRecord("anthropic", label,
		"sk-ant-oat01-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"sk-ant-ort01-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
}

// BenchmarkRedisGet compares with the vault package's BenchmarkGet.
// cold: the record is not in the vault's decrypted cache, so the Get
// checks the manifest's stamp and reads and opens the record. Each
// iteration reads a record this vault handle has not read yet; the handle
// is replaced, outside the timing, after every pass over the records.
// hot: the record is cached; the Get costs the manifest stamp.
func BenchmarkRedisGet(b *testing.B) {
	ctx := context.Background()
	raw := sharedURL(b)
	id := newIdentity(b)
	v := createVault(b, raw, id)
	const n = 256
	ids := make([]records.ID, n)
	err := v.Batch(ctx, func(bt *vault.Batch) error {
		for i := range ids {
			r := benchRecord(fmt.Sprintf("user%03d@example.com", i))
			ids[i] = r.ID()
			if err := bt.Put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cold", func(b *testing.B) {
		var cur *vault.Vault
		reopen := func() {
			b.StopTimer()
			defer b.StartTimer()
			if cur != nil {
				cur.Close()
			}
			var err error
			if cur, err = openVaultErr(raw, id); err != nil {
				b.Fatal(err)
			}
		}
		reopen()
		defer func() { cur.Close() }()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i > 0 && i%n == 0 {
				reopen()
			}
			if _, err := cur.Get(ctx, ids[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hot", func(b *testing.B) {
		hv := openVault(b, raw, id)
		if _, err := hv.Get(ctx, ids[0]); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := hv.Get(ctx, ids[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRedisPut compares with the vault package's BenchmarkPut: one
// committed write (lock, record, conditional manifest commit, cleanup).
func BenchmarkRedisPut(b *testing.B) {
	ctx := context.Background()
	v := createVault(b, sharedURL(b), newIdentity(b))
	r := benchRecord("me@example.com")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Put(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
