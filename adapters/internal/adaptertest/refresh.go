package adaptertest

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/records"
)

// RefreshError fails t unless err is an *adapters.RefreshError whose
// message holds none of secrets, and returns a copy of it without Err,
// for comparing.
func RefreshError(t testing.TB, err error, secrets ...string) adapters.RefreshError {
	t.Helper()
	NoSecret(t, err, secrets...)
	var re *adapters.RefreshError
	if !errors.As(err, &re) {
		t.Fatalf("err = %T %v, want *adapters.RefreshError", err, err)
	}
	got := *re
	got.Err = nil
	return got
}

// RefreshRefusals fails t unless refresh refuses, with the errors an
// OAuth adapter's Refresh documents, the records it cannot refresh: a
// copy of rec (a refreshable OAuth record) without a client id (errNoClient,
// Permanent) or without a refresh token (errNoRefresh, Permanent), an
// API-key record and nil (adapters.ErrNotRefreshable). Bind refresh to a
// NoRequestServer to check that nothing is sent.
func RefreshRefusals(t testing.TB, refresh func(context.Context, *http.Client, *records.Record) (*records.Record, error), rec *records.Record, errNoClient, errNoRefresh error) {
	t.Helper()
	noClient := rec.Clone()
	noClient.OAuth.ClientID = ""
	noRefresh := rec.Clone()
	noRefresh.OAuth.Refresh = ""
	apiKey := &records.Record{Provider: rec.Provider, Namespace: rec.Namespace, Label: rec.Label, Kind: records.KindAPI, API: &records.APIKey{Key: "k"}}
	cases := []struct {
		name      string
		rec       *records.Record
		want      error
		permanent bool
	}{
		{"api key", apiKey, adapters.ErrNotRefreshable, false},
		{"nil", nil, adapters.ErrNotRefreshable, false},
		{"no client id", noClient, errNoClient, true},
		{"no refresh token", noRefresh, errNoRefresh, true},
	}
	for _, c := range cases {
		_, err := refresh(context.Background(), nil, c.rec)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		var re *adapters.RefreshError
		if errors.As(err, &re) != c.permanent || c.permanent && !re.Permanent {
			t.Errorf("%s: permanent mismatch: %v", c.name, err)
		}
	}
}
