package copilot

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Login signs a GitHub account in with the device flow and returns its
// Copilot record for id. id.Namespace is the GitHub host ("default" or
// empty for github.com, else an enterprise host such as "octocorp.ghe.com");
// id.Label is required. The verification URL and user code are written to
// prompt; GitHub is then polled at the interval it asks for (slow_down
// raises it). Once approved, the GitHub token is exchanged for a first
// Copilot token (see Refresh), so an account without a seat fails here,
// with an error wrapping ErrNoCopilotAccess, rather than at first use.
//
// The options name the OAuth client (WithClientID, required), and where
// needed the endpoints of a GitHub host (WithEndpoints) and the names the
// requests carry (WithIntegrationID, WithEditorVersion).
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
	ep, err := a.endpoints(id.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: login: %w", Provider, err)
	}
	d := a.device
	d.DeviceCodeURL, d.TokenURL = ep.DeviceCodeURL, ep.AccessTokenURL
	d.DeviceParams = url.Values{"scope": {Scope}}
	gh, err := d.Run(ctx, client, prompt)
	if err != nil {
		return nil, err
	}
	rec := &records.Record{
		Provider:  id.Provider,
		Namespace: id.Namespace,
		Label:     id.Label,
		Kind:      records.KindOAuth,
		OAuth: &records.OAuth{
			Refresh:  gh.AccessToken,
			ClientID: a.device.ClientID,
			Scopes:   gh.Scopes(),
		},
	}
	out, err := a.Refresh(ctx, client, rec)
	if err != nil {
		return nil, &provider.LoginError{Provider: Provider, Step: "Copilot token exchange", Err: err}
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// githubSlowDown is GitHub's slow_down rule: the interval its answer names
// when that is longer, else RFC 8628's +5 s.
func githubSlowDown(interval, asked time.Duration) time.Duration {
	if asked > interval && asked < time.Hour {
		return asked
	}
	return interval + 5*time.Second
}
