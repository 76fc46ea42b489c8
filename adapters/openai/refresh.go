package openai

import (
	"context"
	"net/http"
	"time"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Refresh exchanges the record's refresh token at the token endpoint
// (rec.OAuth.TokenURL, else the adapter's) with a form-encoded
// refresh_token grant and returns a copy holding the new access token,
// the rotated refresh token (OpenAI refresh tokens are single-use: the
// old one is dead after this call), the new id token and the expiry
// (expires_in, else the access token's exp claim). The client id is
// rec.OAuth.ClientID; without one, Refresh fails without a request.
//
// API-key records return adapters.ErrNotRefreshable. Failures are
// *adapters.RefreshError; refresh_token_reused, refresh_token_expired,
// refresh_token_invalidated, invalid_grant and a bare 401 are Permanent.
func (a *adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	out, tok, err := provider.RefreshGrant{Provider: ProviderID, ClientID: a.clientID, TokenURL: a.tokenURL}.Run(ctx, client, rec, a.now)
	if err != nil {
		return nil, err
	}
	applyTokenFacts(out, tok)
	return out, nil
}

// applyToken copies a token response into rec's OAuth section and the
// facts of its tokens into it (see applyTokenFacts), keeping what the
// response does not replace.
func applyToken(rec *records.Record, tok *provider.TokenResponse, now time.Time) {
	tok.Apply(rec.OAuth, now)
	applyTokenFacts(rec, tok)
}

// applyTokenFacts completes a record the token response was applied to:
// the expiry from the access token's exp claim when the response gave no
// lifetime, and the id token with its facts in AccountID and Meta.
func applyTokenFacts(rec *records.Record, tok *provider.TokenResponse) {
	o := rec.OAuth
	if o.Expiry.IsZero() {
		o.Expiry = tokenExpiry(tok.AccessToken.Reveal())
	}
	if tok.IDToken.IsZero() {
		return
	}
	o.IDToken = tok.IDToken
	c, err := parseIDToken(tok.IDToken.Reveal())
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
	if v = provider.MetaValue(v); v == "" {
		return
	}
	if rec.Meta == nil {
		rec.Meta = map[string]string{}
	}
	rec.Meta[k] = v
}
