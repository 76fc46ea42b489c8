package google

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Refresh obtains a new access token through golang.org/x/oauth2 at the
// token endpoint (rec.OAuth.TokenURL, else the adapter's, by default
// Google's) and returns a copy with the new access token, expiry and id
// token. Google's refresh tokens do not rotate; a new one, if sent, is
// kept. The client is rec.OAuth.ClientID (else the adapter's
// WithClient); its secret is Meta["client_secret"], else the
// WithClient secret for that id, else the matching preset's.
//
// API-key records return adapters.ErrNotRefreshable. Failures are
// *adapters.RefreshError; invalid_grant (revoked or expired refresh
// token) and invalid_client are Permanent.
func (a *adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	clientID, tokenURL, err := provider.ResolveRefresh(ProviderID, rec, a.clientID, a.endpoint.TokenURL)
	if err != nil {
		return nil, err
	}
	secret := a.secretFor(clientID, rec)
	cfg := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		// Google takes client credentials in the form only; naming the
		// style also spares a failed first attempt in the other style.
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	if client != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	}
	refresh := rec.OAuth.Refresh.Reveal()
	tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token()
	if err != nil {
		return nil, provider.AsRefreshError(ProviderID, provider.FromRetrieveError(err, refresh, secret))
	}
	out := rec.Clone()
	applyToken(out, tok, a.now())
	out.OAuth.ClientID = clientID
	return out, nil
}

// secretFor finds the installed-app secret for clientID.
func (a *adapter) secretFor(clientID string, rec *records.Record) string {
	if s := rec.Meta[MetaClientSecret]; s != "" {
		return s
	}
	if a.clientSecret != "" && (a.clientID == "" || a.clientID == clientID) {
		return a.clientSecret
	}
	if p, ok := presetByID(clientID); ok {
		return p.Secret
	}
	return ""
}

// applyToken copies an x/oauth2 token into rec, keeping what it does not
// replace. Expiry uses the injected clock and expires_in, not the
// library's wall-clock Expiry, when the server sent a lifetime.
func applyToken(rec *records.Record, tok *oauth2.Token, now time.Time) {
	o := rec.OAuth
	o.Access = records.Secret(tok.AccessToken)
	if tok.RefreshToken != "" {
		o.Refresh = records.Secret(tok.RefreshToken)
	}
	switch {
	case tok.ExpiresIn > 0:
		o.Expiry = now.Add(time.Duration(min(tok.ExpiresIn, 366*24*3600)) * time.Second)
	default:
		o.Expiry = tok.Expiry
	}
	if id, ok := tok.Extra("id_token").(string); ok && id != "" {
		o.IDToken = records.Secret(id)
		var claims struct {
			Email string `json:"email"`
		}
		if provider.DecodeJWTPayload(id, &claims) == nil {
			if v := provider.MetaValue(claims.Email); v != "" {
				if rec.Meta == nil {
					rec.Meta = map[string]string{}
				}
				rec.Meta[MetaEmail] = v
			}
		}
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		o.Scopes = splitScope(s)
	}
}
