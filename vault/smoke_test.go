package vault

import (
	"context"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
)

func TestSmoke(t *testing.T) {
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	dir := t.TempDir() + "/v"
	v, err := Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	r := &records.Record{Provider: "openai", Namespace: "default", Label: "a", Kind: records.KindAPI, API: &records.APIKey{Key: "sk-1"}}
	if _, err := v.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	v.Close()
	v2, err := Open(ctx, dir, []age.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v2.Get(ctx, r.ID())
	if err != nil || got.API.Key.Reveal() != "sk-1" {
		t.Fatal(got, err)
	}
	if _, err := v2.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}
