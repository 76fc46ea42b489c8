package qwen

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Login signs an account in with the device authorization grant and PKCE,
// writing the verification URL and user code to prompt, and returns an
// OAuth record for id (Provider and Namespace default to "qwen" and
// "default"; Label is required). The record holds the access and refresh
// tokens, their expiry, the client id and scopes, and Meta["resource_url"].
//
// The options name the OAuth client (WithClientID, required) and, where
// they differ from the defaults, the endpoints.
//
// It returns provider.ErrAccessDenied when the user declines,
// provider.ErrDeviceCodeExpired when the code runs out, and a
// *provider.LoginError for any other refusal.
func Login(ctx context.Context, client *http.Client, id records.ID, prompt io.Writer, opts ...Option) (*records.Record, error) {
	return newAdapter(opts...).Login(ctx, client, id, prompt)
}

// Login is the package's Login with the adapter's options.
func (a *adapter) Login(ctx context.Context, client *http.Client, id records.ID, prompt io.Writer) (*records.Record, error) {
	if a.err != nil {
		return nil, a.err
	}
	id, err := a.device.Check(id, prompt)
	if err != nil {
		return nil, err
	}
	pkce := provider.NewPKCE()
	d := a.device
	d.DeviceParams = url.Values{
		"scope":                 {strings.Join(a.scopes, " ")},
		"code_challenge":        {pkce.Challenge},
		"code_challenge_method": {provider.PKCEMethod},
	}
	d.PollParams = url.Values{"code_verifier": {pkce.Verifier}}
	tok, err := d.Run(ctx, client, prompt)
	if err != nil {
		return nil, err
	}
	return a.record(id, tok)
}

func (a *adapter) record(id records.ID, tok *provider.TokenResponse) (*records.Record, error) {
	rec := &records.Record{
		Provider:  id.Provider,
		Namespace: id.Namespace,
		Label:     id.Label,
		Kind:      records.KindOAuth,
		OAuth:     &records.OAuth{ClientID: a.device.ClientID},
	}
	tok.Apply(rec.OAuth, a.device.Now())
	if len(rec.OAuth.Scopes) == 0 {
		rec.OAuth.Scopes = append([]string(nil), a.scopes...)
	}
	if a.device.TokenURL != DefaultTokenURL {
		rec.OAuth.TokenURL = a.device.TokenURL
	}
	var resource string // "" unless the answer's resource_url is a string
	_ = json.Unmarshal(tok.Extra[MetaResourceURL], &resource)
	if resource != "" {
		if _, err := resourceBaseURL(resource); err != nil {
			return nil, &provider.LoginError{Provider: Provider, Step: "token poll", Status: http.StatusOK, Code: "resource_url", Err: err}
		}
		rec.Meta = map[string]string{MetaResourceURL: resource}
	}
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return rec, nil
}
