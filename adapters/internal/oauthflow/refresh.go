package oauthflow

import (
	"errors"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/records"
)

// ErrNoRefreshToken: an OAuth record without a refresh token.
var ErrNoRefreshToken = errors.New("record has no refresh token")

// RefreshTarget is what a refresh request needs.
type RefreshTarget struct {
	ClientID     string
	TokenURL     string
	RefreshToken string
}

// ResolveRefresh checks that rec can be refreshed and resolves the client
// id and token URL: the record's own (tokens are bound to the client they
// were issued to) else the adapter's defaults. It returns
// adapters.ErrNotRefreshable for records that are not OAuth, and a
// permanent *adapters.RefreshError when the refresh token or every
// client id is missing, so that no request is sent.
func ResolveRefresh(provider string, rec *records.Record, defaultClientID, defaultTokenURL string) (RefreshTarget, error) {
	if rec == nil || rec.Kind != records.KindOAuth || rec.OAuth == nil {
		return RefreshTarget{}, adapters.ErrNotRefreshable
	}
	if rec.OAuth.Refresh.IsZero() {
		return RefreshTarget{}, &adapters.RefreshError{Provider: provider, Permanent: true, Err: ErrNoRefreshToken}
	}
	t := RefreshTarget{ClientID: rec.OAuth.ClientID, TokenURL: rec.OAuth.TokenURL, RefreshToken: rec.OAuth.Refresh.Reveal()}
	if t.ClientID == "" {
		t.ClientID = defaultClientID
	}
	if t.ClientID == "" {
		return RefreshTarget{}, &adapters.RefreshError{Provider: provider, Permanent: true, Err: ErrClientIDRequired}
	}
	if t.TokenURL == "" {
		t.TokenURL = defaultTokenURL
	}
	return t, nil
}
