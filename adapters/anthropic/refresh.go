package anthropic

import (
	"context"
	"net/http"
	"net/url"

	"github.com/authvault/authvault/adapters/internal/oauthflow"
	"github.com/authvault/authvault/records"
)

// Refresh exchanges the record's refresh token at the token endpoint
// (rec.OAuth.TokenURL, else the adapter's) with a JSON body
// {"grant_type":"refresh_token","refresh_token",…,"client_id"} and
// returns a copy holding the new access token, the rotated refresh token
// (Anthropic rotates them; the old one is dead after this call) and the
// new expiry. The client id is rec.OAuth.ClientID, else the adapter's
// WithClientID; with neither, Refresh fails without a request.
//
// API-key records return adapters.ErrNotRefreshable. Failures are
// *adapters.RefreshError; Permanent is set for invalid_grant and the
// other codes that mean the refresh token is dead.
func (a *Adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	t, err := oauthflow.ResolveRefresh(ProviderID, rec, a.clientID, a.tokenURL)
	if err != nil {
		return nil, err
	}
	tok, err := oauthflow.PostToken(ctx, client, oauthflow.Request{
		URL: t.TokenURL,
		Params: url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {t.RefreshToken},
			"client_id":     {t.ClientID},
		},
		JSON:   true,
		Header: http.Header{"Anthropic-Beta": {OAuthBeta}},
	})
	if err != nil {
		return nil, oauthflow.AsRefreshError(ProviderID, err)
	}
	out := rec.Clone()
	o := out.OAuth
	o.Access = tok.AccessToken
	if !tok.RefreshToken.IsZero() {
		o.Refresh = tok.RefreshToken
	}
	o.Expiry = tok.Expiry(a.now())
	if s := tok.Scopes(); len(s) > 0 {
		o.Scopes = s
	}
	o.ClientID = t.ClientID
	return out, nil
}
