package adaptertest

import (
	"errors"
	"net/http"
	"testing"

	"github.com/authvault/authvault/records"
)

// AuthorizeRefuses fails t unless authorize refuses a nil record and an
// API-key or OAuth record holding no secret with errNone, and a
// well-known record or one without the section of its kind with errKind.
func AuthorizeRefuses(t testing.TB, authorize func(*http.Request, *records.Record) error, errNone, errKind error) {
	t.Helper()
	cases := []struct {
		name string
		rec  *records.Record
		want error
	}{
		{"nil", nil, errNone},
		{"well-known", &records.Record{Kind: records.KindWellKnown, WellKnown: &records.WellKnown{Key: "k", Token: "t"}}, errKind},
		{"empty key", &records.Record{Kind: records.KindAPI, API: &records.APIKey{}}, errNone},
		{"empty token", &records.Record{Kind: records.KindOAuth, OAuth: &records.OAuth{}}, errNone},
		{"kind without section", &records.Record{Kind: records.KindOAuth}, errKind},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, "https://api.example.test/v1/models", nil)
		if err := authorize(req, c.rec); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}
