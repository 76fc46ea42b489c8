package openai

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/authvault/authvault/adapters/internal/oauthflow"
	"github.com/authvault/authvault/records"
)

// Refresh exchanges the record's refresh token at the token endpoint
// (rec.OAuth.TokenURL, else the adapter's) with a form-encoded
// refresh_token grant and returns a copy holding the new access token,
// the rotated refresh token (OpenAI refresh tokens are single-use: the
// old one is dead after this call), the new id token and the expiry
// (expires_in, else the access token's exp claim). The client id is
// rec.OAuth.ClientID, else the adapter's WithClientID; with neither,
// Refresh fails without a request.
//
// API-key records return adapters.ErrNotRefreshable. Failures are
// *adapters.RefreshError; refresh_token_reused, refresh_token_expired,
// refresh_token_invalidated, invalid_grant and a bare 401 are Permanent.
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
	})
	if err != nil {
		return nil, oauthflow.AsRefreshError(ProviderID, err)
	}
	out := rec.Clone()
	applyToken(out, tok, a.now())
	out.OAuth.ClientID = t.ClientID
	return out, nil
}

// applyToken copies a token response into rec's OAuth section and the
// facts of its id token into AccountID and Meta, keeping what the
// response does not replace.
func applyToken(rec *records.Record, tok *oauthflow.TokenResponse, now time.Time) {
	o := rec.OAuth
	o.Access = tok.AccessToken
	if !tok.RefreshToken.IsZero() {
		o.Refresh = tok.RefreshToken
	}
	o.Expiry = tok.Expiry(now)
	if o.Expiry.IsZero() {
		o.Expiry = tokenExpiry(tok.AccessToken.Reveal())
	}
	if s := tok.Scopes(); len(s) > 0 {
		o.Scopes = s
	}
	if tok.IDToken.IsZero() {
		return
	}
	o.IDToken = tok.IDToken
	c, err := ParseIDToken(tok.IDToken.Reveal())
	if err != nil {
		return
	}
	if c.AccountID != "" {
		o.AccountID = c.AccountID
	}
	setMeta(rec, "email", c.Email)
	setMeta(rec, "plan_type", c.PlanType)
}

func setMeta(rec *records.Record, k, v string) {
	if v = oauthflow.MetaValue(v); v == "" {
		return
	}
	if rec.Meta == nil {
		rec.Meta = map[string]string{}
	}
	rec.Meta[k] = v
}
