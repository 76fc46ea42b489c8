package credential

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
)

var (
	errNone = errors.New("none")
	errKind = errors.New("kind")
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
		{"nil", nil, "", false, errNone},
		{"empty key", APIKeyRecord("p", "l", ""), "", false, errNone},
		{"empty token", &records.Record{Kind: records.KindOAuth, OAuth: &records.OAuth{}}, "", false, errNone},
		{"well-known", &records.Record{Kind: records.KindWellKnown, WellKnown: &records.WellKnown{Token: "t"}}, "", false, errKind},
		{"kind without section", &records.Record{Kind: records.KindAPI}, "", false, errKind},
	}
	for _, c := range cases {
		secret, apiKey, err := Of(c.rec, errNone, errKind)
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

func TestSend(t *testing.T) {
	h := http.Header{"Authorization": {"Bearer stale"}, "Content-Type": {"application/json"}}
	Send(h, "x-key", "k", true)
	if diff := cmp.Diff(http.Header{"X-Key": {"k"}, "Content-Type": {"application/json"}}, h); diff != "" {
		t.Errorf("api key (-want +got):\n%s", diff)
	}
	Send(h, "x-key", "a", false)
	if diff := cmp.Diff(http.Header{"Authorization": {"Bearer a"}, "Content-Type": {"application/json"}}, h); diff != "" {
		t.Errorf("access token (-want +got):\n%s", diff)
	}
}
