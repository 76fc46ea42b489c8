package vault

import (
	"context"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
)

type testVault struct {
	*Vault
	dir string
	id  age.Identity
}

func newTestVault(t testing.TB, opts ...Option) *testVault {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/vault"
	v, err := Create(context.Background(), dir, []age.Recipient{id.Recipient()}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return &testVault{Vault: v, dir: dir, id: id}
}

func (tv *testVault) reopen(t testing.TB, opts ...Option) *Vault {
	t.Helper()
	v, err := Open(context.Background(), tv.dir, []age.Identity{tv.id}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func apiRecord(provider, label, key string) *records.Record {
	return &records.Record{Provider: provider, Namespace: records.DefaultNamespace, Label: label,
		Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(key)}}
}

func oauthRecord(provider, label, access, refresh string) *records.Record {
	return &records.Record{Provider: provider, Namespace: records.DefaultNamespace, Label: label,
		Kind: records.KindOAuth, OAuth: &records.OAuth{
			Access: records.Secret(access), Refresh: records.Secret(refresh),
			Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Scopes: []string{"a", "b"}, ClientID: "client"},
		Meta: map[string]string{"email": label}}
}

func mustPut(t testing.TB, v *Vault, r *records.Record) *records.Record {
	t.Helper()
	out, err := v.Put(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
