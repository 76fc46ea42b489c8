package migrate

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
)

func TestSetLegacy(t *testing.T) {
	first := oauthRec("anthropic", "default", "a-first", records.OAuth{
		Access: "CANARY-a1", Refresh: "CANARY-r1", Expiry: t0, AccountID: "acct-1",
		IDToken: "CANARY-id1", Scopes: []string{"user:inference"}, ClientID: "client-1",
	}, map[string]string{"plan": "max"})
	second := oauth("anthropic", "b-second", "CANARY-a2", "CANARY-r2", t0)
	other := oauth("openai", "o", "CANARY-oa", "CANARY-or", t0)

	tests := []struct {
		name     string
		existing []*records.Record
		info     LegacyInfo
		wantID   string
		want     *records.Record // the stored record, vault fields cleared
	}{
		{
			name:     "the record whose refresh token is replaced",
			existing: []*records.Record{first, second, other},
			info:     LegacyInfo{Access: "CANARY-a3", Refresh: "CANARY-r3", Expiry: t2, OldRefresh: "CANARY-r2"},
			wantID:   "anthropic/default/b-second",
			want:     oauth("anthropic", "b-second", "CANARY-a3", "CANARY-r3", t2),
		},
		{
			name:     "else the first account, keeping what info does not carry",
			existing: []*records.Record{second, first, other},
			info:     LegacyInfo{Access: "CANARY-a3", Expiry: t2, OldRefresh: "CANARY-unknown"},
			wantID:   "anthropic/default/a-first",
			want: oauthRec("anthropic", "default", "a-first", records.OAuth{
				Access: "CANARY-a3", Refresh: "CANARY-r1", Expiry: t2, AccountID: "acct-1",
				IDToken: "CANARY-id1", Scopes: []string{"user:inference"}, ClientID: "client-1",
			}, map[string]string{"plan": "max"}),
		},
		{
			name:     "else a new default account",
			existing: []*records.Record{other},
			info:     LegacyInfo{Access: "CANARY-a3", Refresh: "CANARY-r3", Expiry: t2, AccountID: "acct-9"},
			wantID:   "anthropic/default/default",
			want: oauthRec("anthropic", "default", "default", records.OAuth{
				Access: "CANARY-a3", Refresh: "CANARY-r3", Expiry: t2, AccountID: "acct-9",
			}, nil),
		},
		{
			name:     "an API key replaces the first account's credential",
			existing: []*records.Record{first},
			info:     LegacyInfo{Key: "sk-ant-api03-CANARY"},
			wantID:   "anthropic/default/a-first",
			want: &records.Record{
				Provider: "anthropic", Namespace: "default", Label: "a-first", Kind: records.KindAPI,
				API: &records.APIKey{Key: "sk-ant-api03-CANARY"}, Meta: map[string]string{"plan": "max"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newMemTarget(tt.existing...)
			before := target.all()
			id, err := setLegacy(context.Background(), target, "anthropic", tt.info)
			if err != nil {
				t.Fatal(err)
			}
			if id.String() != tt.wantID {
				t.Errorf("id = %s, want %s", id, tt.wantID)
			}
			if target.commits != 1 {
				t.Errorf("%d commits, want 1", target.commits)
			}
			got := target.recs[id].Clone()
			got.Created, got.Updated, got.Generation = tt.want.Created, tt.want.Updated, 0
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// Every other record is as it was.
			for _, r := range before {
				if r.ID() != id {
					if diff := cmp.Diff(r, target.recs[r.ID()]); diff != "" {
						t.Errorf("%s changed:\n%s", r.ID(), diff)
					}
				}
			}
		})
	}
}

func TestSetLegacyErrors(t *testing.T) {
	ctx := context.Background()
	for _, info := range []LegacyInfo{{}, {Key: "CANARY-k", Access: "CANARY-a"}, {OldRefresh: "CANARY-r"}} {
		target := newMemTarget()
		if _, err := setLegacy(ctx, target, "anthropic", info); !errors.Is(err, ErrInvalidLegacy) {
			t.Errorf("setLegacy(%+v) = %v, want ErrInvalidLegacy", info, err)
		}
	}
	if _, err := setLegacy(ctx, newMemTarget(), "Not/Valid", LegacyInfo{Key: "CANARY-k"}); !errors.Is(err, records.ErrInvalidID) {
		t.Errorf("bad provider: %v", err)
	}
	target := newMemTarget()
	target.failCommit = errCommit
	if _, err := setLegacy(ctx, target, "anthropic", LegacyInfo{Key: "CANARY-k"}); !errors.Is(err, errCommit) {
		t.Errorf("failed commit: %v", err)
	}
	if len(target.recs) != 0 {
		t.Error("a failed commit stored a record")
	}
}
