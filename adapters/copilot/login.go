package copilot

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/internal/login"
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
	ep, err := a.endpoints(id.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: login: %w", Provider, err)
	}
	gh, err := a.device.Run(ctx, client, prompt, login.Endpoints{
		DeviceCodeURL: ep.DeviceCodeURL,
		TokenURL:      ep.AccessTokenURL,
		DeviceParams:  url.Values{"scope": {Scope}},
	})
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
		return nil, &bearer.LoginError{Provider: Provider, Step: "Copilot token exchange", Err: err}
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
