package qwen

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/internal/login"
	"github.com/authvault/authvault/adapters/internal/oauthflow"
	"github.com/authvault/authvault/records"
)

// Login signs an account in with the device authorization grant and PKCE,
// writing the verification URL and user code to prompt, and returns an
// OAuth record for id (Provider and Namespace default to "qwen" and
// "default"; Label is required). The record holds the access and refresh
// tokens, their expiry, the client id and scopes, and Meta["resource_url"].
//
// It returns bearer.ErrAccessDenied when the user declines,
// bearer.ErrDeviceCodeExpired when the code runs out, and a
// *bearer.LoginError for any other refusal.
func (a *Adapter) Login(ctx context.Context, client *http.Client, id records.ID, prompt io.Writer) (*records.Record, error) {
	if a.err != nil {
		return nil, a.err
	}
	id, err := a.device.Check(id, prompt)
	if err != nil {
		return nil, err
	}
	pkce := oauthflow.NewPKCE()
	tok, err := a.device.Run(ctx, client, prompt, login.Endpoints{
		DeviceCodeURL: a.deviceCodeURL,
		TokenURL:      a.tokenURL,
		DeviceParams: url.Values{
			"scope":                 {strings.Join(a.scopes, " ")},
			"code_challenge":        {pkce.Challenge},
			"code_challenge_method": {oauthflow.Method},
		},
		PollParams: url.Values{"code_verifier": {pkce.Verifier}},
	})
	if err != nil {
		return nil, err
	}
	return a.record(id, tok)
}

func (a *Adapter) record(id records.ID, tok *oauthflow.TokenResponse) (*records.Record, error) {
	rec := &records.Record{
		Provider:  id.Provider,
		Namespace: id.Namespace,
		Label:     id.Label,
		Kind:      records.KindOAuth,
		OAuth: &records.OAuth{
			Access:   tok.AccessToken,
			Refresh:  tok.RefreshToken,
			ClientID: a.device.ClientID,
			Expiry:   tok.Expiry(a.device.Now()),
			Scopes:   strings.Fields(tok.Scope),
		},
	}
	if len(rec.OAuth.Scopes) == 0 {
		rec.OAuth.Scopes = append([]string(nil), a.scopes...)
	}
	if a.tokenURL != DefaultTokenURL {
		rec.OAuth.TokenURL = a.tokenURL
	}
	if resource := tok.ExtraString(MetaResourceURL); resource != "" {
		if _, err := ResourceBaseURL(resource); err != nil {
			return nil, &bearer.LoginError{Provider: Provider, Step: login.StepTokenPoll, Status: http.StatusOK, Code: "resource_url", Err: err}
		}
		rec.Meta = map[string]string{MetaResourceURL: resource}
	}
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return rec, nil
}
