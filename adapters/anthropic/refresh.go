package anthropic

import (
	"context"
	"net/http"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Refresh exchanges the record's refresh token at the token endpoint
// (rec.OAuth.TokenURL, else the adapter's) with a JSON body
// {"grant_type":"refresh_token","refresh_token",…,"client_id"} and
// returns a copy holding the new access token, the rotated refresh token
// (Anthropic rotates them; the old one is dead after this call) and the
// new expiry. The client id is rec.OAuth.ClientID; without one, Refresh
// fails without a request.
//
// API-key records return adapters.ErrNotRefreshable. Failures are
// *adapters.RefreshError; Permanent is set for invalid_grant and the
// other codes that mean the refresh token is dead.
func (a *adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	out, _, err := provider.RefreshGrant{
		Provider: ProviderID,
		ClientID: a.clientID,
		TokenURL: a.tokenURL,
		JSON:     true,
		Header:   http.Header{"Anthropic-Beta": {OAuthBeta}},
	}.Run(ctx, client, rec, a.now)
	return out, err
}
