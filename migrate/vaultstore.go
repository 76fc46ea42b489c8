package migrate

import (
	"context"
	"errors"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// vaultStore is the store of an open vault: Records lists and decrypts,
// Commit is one vault Batch.
type vaultStore struct{ v *vault.Vault }

func (t vaultStore) Records(ctx context.Context, provider string) ([]*records.Record, error) {
	entries, err := t.v.List(ctx, vault.Filter{Provider: provider})
	if err != nil {
		return nil, err
	}
	out := make([]*records.Record, 0, len(entries))
	for _, e := range entries {
		r, err := t.v.Get(ctx, e.ID)
		if errors.Is(err, vault.ErrNotFound) {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (t vaultStore) Commit(ctx context.Context, fn func(txn) error) error {
	return t.v.Batch(ctx, func(b *vault.Batch) error { return fn(batchTxn{b}) })
}

type batchTxn struct{ b *vault.Batch }

func (t batchTxn) Records(provider string) ([]*records.Record, error) {
	entries := t.b.List(vault.Filter{Provider: provider})
	out := make([]*records.Record, 0, len(entries))
	for _, e := range entries {
		r, err := t.b.Get(e.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (t batchTxn) Put(r *records.Record) error { return t.b.Put(r) }
