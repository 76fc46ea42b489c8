package vault

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/records"
)

func TestBatchRestoreKeepsTimes(t *testing.T) {
	ctx := context.Background()
	tv := newTestVault(t)
	old := mustPut(t, tv.Vault, apiRecord("openai", "work", "k1"))

	created := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	updated := time.Date(2024, 6, 7, 8, 9, 10, 11, time.UTC)
	in := oauthRecord("anthropic", "me", "a", "r")
	in.Created, in.Updated = created, updated
	fresh := apiRecord("openai", "work", "k2") // zero times: set like Put
	if err := tv.Batch(ctx, func(b *Batch) error {
		if err := b.Restore(in); err != nil {
			return err
		}
		return b.Restore(fresh)
	}); err != nil {
		t.Fatal(err)
	}

	v := tv.reopen(t)
	got, err := v.Get(ctx, in.ID())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got, cmpopts.IgnoreFields(records.Record{}, "Generation")); diff != "" {
		t.Errorf("restored record differs (-want +got):\n%s", diff)
	}
	if got.Generation <= old.Generation {
		t.Errorf("generation %d, want above %d", got.Generation, old.Generation)
	}
	entries, err := v.List(ctx, Filter{Provider: "anthropic"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !entries[0].Updated.Equal(updated) {
		t.Errorf("manifest entry %+v, want Updated %v", entries, updated)
	}
	w, err := v.Get(ctx, fresh.ID())
	if err != nil {
		t.Fatal(err)
	}
	if w.Created.IsZero() || w.Updated.IsZero() || w.API.Key.Reveal() != "k2" {
		t.Errorf("restored record with zero times: %+v", w)
	}

	if err := tv.Batch(ctx, func(b *Batch) error {
		return b.Restore(&records.Record{Provider: "x", Namespace: "default", Label: "l", Kind: records.KindAPI})
	}); err == nil {
		t.Error("Restore accepted an invalid record")
	}
}
