package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/internal/oauthflow"
	"github.com/authvault/authvault/records"
)

// The steps a *bearer.LoginError of a device login names.
const (
	StepDeviceAuthorization = "device authorization"
	StepTokenPoll           = "token poll"
)

// Device is an adapter's device login: its OAuth client and how it polls.
// The adapter keeps one, configured by its options, and uses its clock and
// User-Agent for the other requests it makes itself.
type Device struct {
	Provider string
	ClientID string
	// UserAgent is sent with every request the login makes.
	UserAgent string
	// Interval is the poll interval when the server names none.
	Interval time.Duration
	// SlowDown is the provider's slow_down rule; nil is RFC 8628's +5 s
	// (see oauthflow.DevicePoll).
	SlowDown func(interval, asked time.Duration) time.Duration
	// Now is the clock.
	Now func() time.Time
	// Sleep waits between polls; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Endpoints are where one login asks, and what it sends besides the
// client id, the device code and the grant type.
type Endpoints struct {
	DeviceCodeURL string
	TokenURL      string
	// DeviceParams go with the device authorization request (scope, a
	// PKCE challenge).
	DeviceParams url.Values
	// PollParams go with every poll (a PKCE verifier).
	PollParams url.Values
}

// Check refuses a login that cannot start: no client id, no writer to
// show the user code on, or an id that is not the provider's or not
// valid. It returns id with the provider and namespace filled in.
func (d *Device) Check(id records.ID, prompt io.Writer) (records.ID, error) {
	if d.ClientID == "" {
		return id, fmt.Errorf("%s: login: %w", d.Provider, bearer.ErrNoClientID)
	}
	if prompt == nil {
		return id, fmt.Errorf("%s: login: nil prompt writer: the user must see the code", d.Provider)
	}
	id, err := ID(d.Provider, id)
	if err != nil {
		return id, err
	}
	return id, id.Validate()
}

// Run asks for a device code, shows the user where to enter it (see
// bearer.ShowDeviceCode), and polls until the user approves it, denies it,
// or it expires: after its expires_in, and at most 15 minutes. It returns
// the token answer, whose tokens can be sent in a header.
func (d *Device) Run(ctx context.Context, client *http.Client, prompt io.Writer, e Endpoints) (*oauthflow.TokenResponse, error) {
	client = bearer.ClientWithUserAgent(client, d.UserAgent)
	params := maps.Clone(e.DeviceParams)
	if params == nil {
		params = url.Values{}
	}
	params.Set("client_id", d.ClientID)
	dc, err := oauthflow.RequestDeviceCode(ctx, client, oauthflow.Request{URL: e.DeviceCodeURL, Params: params})
	if err != nil {
		return nil, d.deviceAuthFailure(err)
	}
	shown := &oauth2.DeviceAuthResponse{
		DeviceCode:              dc.DeviceCode.Reveal(),
		UserCode:                dc.UserCode,
		VerificationURI:         dc.VerificationURI,
		VerificationURIComplete: dc.VerificationURIComplete,
	}
	if err := bearer.ShowDeviceCode(prompt, d.Provider, shown); err != nil {
		return nil, err
	}
	wait := oauthflow.DefaultDeviceLifetime
	if dc.ExpiresIn > 0 {
		wait = min(dc.ExpiresIn, wait)
	}
	interval := d.Interval
	if dc.Interval > 0 {
		interval = dc.Interval
	}
	poll := maps.Clone(e.PollParams)
	if poll == nil {
		poll = url.Values{}
	}
	poll.Set("grant_type", oauthflow.DeviceGrantType)
	poll.Set("client_id", d.ClientID)
	poll.Set("device_code", dc.DeviceCode.Reveal())
	tok, err := oauthflow.PollDeviceToken(ctx, client, oauthflow.DevicePoll{
		Request:  oauthflow.Request{URL: e.TokenURL, Params: poll},
		Interval: interval,
		Deadline: d.Now().Add(wait),
		Now:      d.Now,
		Sleep:    d.Sleep,
		SlowDown: d.SlowDown,
	})
	if err != nil {
		return nil, d.pollFailure(ctx, err)
	}
	if !sendable(tok.AccessToken) || !tok.RefreshToken.IsZero() && !sendable(tok.RefreshToken) {
		return nil, &bearer.LoginError{Provider: d.Provider, Step: StepTokenPoll, Status: http.StatusOK, Err: errors.New("answer holds a token that cannot be sent")}
	}
	return tok, nil
}

// sendable reports whether a token can go in a header as it is.
func sendable(tok records.Secret) bool {
	return !strings.ContainsFunc(tok.Reveal(), func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// deviceAuthFailure is the *bearer.LoginError of a device authorization
// request that failed: the status and code of a refusal; an answer that
// is no device authorization, or none at all, only by its cause.
func (d *Device) deviceAuthFailure(err error) error {
	le := &bearer.LoginError{Provider: d.Provider, Step: StepDeviceAuthorization}
	var te *oauthflow.TokenError
	switch {
	case errors.As(err, &te):
		le.Status, le.Code = te.Status, te.Code
	case errors.Is(err, context.Canceled):
		le.Err = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		le.Err = context.DeadlineExceeded
	default:
		le.Err = err
	}
	return le
}

// pollFailure maps the end of an unsuccessful poll: a code that expired
// before the server said so is bearer.ErrDeviceCodeExpired, the end of
// ctx its error, and every answer a *bearer.LoginError, wrapping
// bearer.ErrAccessDenied or bearer.ErrDeviceCodeExpired when it says
// that.
func (d *Device) pollFailure(ctx context.Context, err error) error {
	le := &bearer.LoginError{Provider: d.Provider, Step: StepTokenPoll}
	var te *oauthflow.TokenError
	var me *oauthflow.MalformedResponseError
	switch {
	case errors.As(err, &te):
		le.Status, le.Code = te.Status, te.Code
		switch {
		case errors.Is(err, bearer.ErrAccessDenied):
			le.Err = bearer.ErrAccessDenied
		case errors.Is(err, bearer.ErrDeviceCodeExpired):
			le.Err = bearer.ErrDeviceCodeExpired
		}
	case errors.Is(err, bearer.ErrDeviceCodeExpired):
		return fmt.Errorf("%s: login: %w", d.Provider, bearer.ErrDeviceCodeExpired)
	case errors.As(err, &me):
		le.Status, le.Err = me.Status, err
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		le.Err = err
	}
	return le
}
