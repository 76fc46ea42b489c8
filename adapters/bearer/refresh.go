package bearer

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Refresh runs an OAuth 2.0 refresh grant (RFC 6749 section 6) with client
// against rec.OAuth.TokenURL, or the adapter's WithTokenURL, as the client
// rec.OAuth.ClientID (or WithClientID) with the secret rec.OAuth.ClientSecret
// (or WithClientSecret; none for a public client). The result is a copy of
// rec with
// the new access token, the rotated refresh token when the server sent one,
// the expiry, and any WithTokenMeta fields.
//
// API-key and well-known records, and OAuth records without a refresh token
// or a token endpoint, return an error wrapping adapters.ErrNotRefreshable.
// Server refusals are *adapters.RefreshError (see provider.RefreshFailure).
func (a *adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	out, err := a.refresh(ctx, client, rec)
	// A token endpoint may echo the token it was sent as its error code.
	return out, adapters.ScrubRefreshError(err, adapters.RecordCredentials(rec))
}

// refresh is Refresh before the error is scrubbed.
func (a *adapter) refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	if err := a.checkRecord(rec); err != nil {
		return nil, err
	}
	if rec.OAuth == nil {
		return nil, fmt.Errorf("%s: %s: %w", a.provider, rec.ID(), adapters.ErrNotRefreshable)
	}
	if rec.OAuth.Refresh.IsZero() {
		return nil, fmt.Errorf("%s: %s: no refresh token: %w", a.provider, rec.ID(), adapters.ErrNotRefreshable)
	}
	tokenURL := rec.OAuth.TokenURL
	if tokenURL == "" {
		tokenURL = a.tokenURL
	}
	if tokenURL == "" {
		return nil, fmt.Errorf("%s: %s: no token endpoint configured: %w", a.provider, rec.ID(), adapters.ErrNotRefreshable)
	}
	if _, err := provider.ParseBaseURL(tokenURL, true); err != nil {
		return nil, fmt.Errorf("%s: %s: token endpoint: %w", a.provider, rec.ID(), err)
	}
	clientID := rec.OAuth.ClientID
	if clientID == "" {
		clientID = a.clientID
	}
	if clientID == "" {
		return nil, fmt.Errorf("%s: %s: no OAuth client id: %w", a.provider, rec.ID(), adapters.ErrNotRefreshable)
	}
	secret := a.clientSecret
	if !rec.OAuth.ClientSecret.IsZero() {
		secret = rec.OAuth.ClientSecret // the record's own client's
	}
	cfg := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: secret.Reveal(),
		Endpoint:     oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	if !secret.IsZero() {
		cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, provider.ClientWithUserAgent(client, a.userAgent))
	start := a.now()
	tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rec.OAuth.Refresh.Reveal()}).Token()
	if err != nil {
		return nil, provider.RefreshFailure(a.provider, err)
	}
	// From here on nothing may fail: the server may have rotated the
	// refresh token, and a result dropped now would lose the account. An
	// access token that cannot be sent fails at Authorize instead.
	out := rec.Clone()
	out.OAuth.Access = records.Secret(tok.AccessToken)
	if tok.RefreshToken != "" {
		out.OAuth.Refresh = records.Secret(tok.RefreshToken)
	}
	out.OAuth.Expiry = time.Time{}
	if tok.ExpiresIn > 0 {
		out.OAuth.Expiry = start.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if id, ok := tok.Extra("id_token").(string); ok && id != "" {
		out.OAuth.IDToken = records.Secret(id)
	}
	if scope, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(scope) != "" {
		out.OAuth.Scopes = strings.Fields(scope)
	}
	for _, k := range a.tokenMeta {
		if v, ok := tok.Extra(k).(string); ok && v != "" {
			if out.Meta == nil {
				out.Meta = map[string]string{}
			}
			out.Meta[k] = v
		}
	}
	return out, nil
}
