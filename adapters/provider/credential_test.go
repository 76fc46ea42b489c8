package provider

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
)

func TestOf(t *testing.T) {
	cases := []struct {
		name       string
		rec        *records.Record
		wantSecret records.Secret
		wantAPIKey bool
		wantErr    error
	}{
		{"api key", APIKeyRecord("p", "l", "k"), "k", true, nil},
		{"oauth", &records.Record{Kind: records.KindOAuth, OAuth: &records.OAuth{Access: "a"}}, "a", false, nil},
		{"nil", nil, "", false, ErrNoCredential},
		{"empty key", APIKeyRecord("p", "l", ""), "", false, ErrNoCredential},
		{"empty token", &records.Record{Kind: records.KindOAuth, OAuth: &records.OAuth{}}, "", false, ErrNoCredential},
		{"well-known", &records.Record{Kind: records.KindWellKnown, WellKnown: &records.WellKnown{Token: "t"}}, "", false, ErrUnsupportedKind},
		{"kind without section", &records.Record{Kind: records.KindAPI}, "", false, ErrUnsupportedKind},
	}
	for _, c := range cases {
		secret, apiKey, err := credentialOf(c.rec)
		if secret != c.wantSecret || apiKey != c.wantAPIKey || !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
			t.Errorf("%s: Of = %v, %v, %v", c.name, secret == c.wantSecret, apiKey, err)
		}
	}
}

func TestAPIKeyRecord(t *testing.T) {
	r := APIKeyRecord("anthropic", "work", "sk-1")
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.ID().String() != "anthropic/default/work" || r.AccessToken().Reveal() != "sk-1" {
		t.Errorf("record %v", r.ID())
	}
}

func TestSetCredential(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer stale"}, "Content-Type": {"application/json"}}
	if apiKey, err := SetCredential(h, APIKeyRecord("p", "l", "k"), "x-key"); !apiKey || err != nil {
		t.Fatalf("api key: %v, %v", apiKey, err)
	}
	if diff := cmp.Diff(http.Header{"X-Key": {"k"}, "Content-Type": {"application/json"}}, h); diff != "" {
		t.Errorf("api key (-want +got):\n%s", diff)
	}
	if apiKey, err := SetCredential(h, &records.Record{Kind: records.KindOAuth, OAuth: &records.OAuth{Access: "a"}}, "x-key"); apiKey || err != nil {
		t.Fatalf("access token: %v, %v", apiKey, err)
	}
	if diff := cmp.Diff(http.Header{"Authorization": {"Bearer a"}, "Content-Type": {"application/json"}}, h); diff != "" {
		t.Errorf("access token (-want +got):\n%s", diff)
	}
}
