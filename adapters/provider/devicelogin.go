package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/records"
)

// The steps a *LoginError of a device login names.
const (
	stepDeviceAuthorization = "device authorization"
	stepTokenPoll           = "token poll"
)

// DeviceLogin is one device authorization login (RFC 8628) that ends the
// way every adapter's device login ends: with ErrAccessDenied,
// ErrDeviceCodeExpired, or a *LoginError naming the step, the HTTP status
// and the OAuth error code. The adapter fills it in from its options and
// the account the login is for.
type DeviceLogin struct {
	Provider string
	ClientID string
	// UserAgent is sent with every request the login makes.
	UserAgent string
	// DeviceCodeURL and TokenURL are where the login asks.
	DeviceCodeURL, TokenURL string
	// DeviceParams go with the device authorization request (scope, a
	// PKCE challenge), besides the client id.
	DeviceParams url.Values
	// PollParams go with every poll (a PKCE verifier), besides the client
	// id, the device code and the grant type.
	PollParams url.Values
	// Interval is the poll interval when the server names none.
	Interval time.Duration
	// SlowDown is the provider's slow_down rule; nil is RFC 8628's +5 s
	// (see DevicePoll).
	SlowDown func(interval, asked time.Duration) time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits between polls; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Check refuses a login that cannot start: no client id, no writer to
// show the user code on, or an id that is not the provider's or not
// valid. It returns id with the provider and namespace filled in.
func (d *DeviceLogin) Check(id records.ID, prompt io.Writer) (records.ID, error) {
	if d.ClientID == "" {
		return id, fmt.Errorf("%s: login: %w", d.Provider, ErrClientIDRequired)
	}
	if prompt == nil {
		return id, fmt.Errorf("%s: login: nil prompt writer: the user must see the code", d.Provider)
	}
	id, err := AccountID(d.Provider, id)
	if err != nil {
		return id, err
	}
	return id, id.Validate()
}

// Run asks for a device code, shows the user where to enter it on prompt
// (https URLs and a plain-text code only), and polls until the user
// approves it, denies it, or it expires: after its expires_in, and at
// most 15 minutes. It returns the token answer, whose tokens can be sent
// in a header.
func (d *DeviceLogin) Run(ctx context.Context, client *http.Client, prompt io.Writer) (*TokenResponse, error) {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	client = ClientWithUserAgent(client, d.UserAgent)
	params := maps.Clone(d.DeviceParams)
	if params == nil {
		params = url.Values{}
	}
	params.Set("client_id", d.ClientID)
	dc, err := RequestDeviceCode(ctx, client, Request{URL: d.DeviceCodeURL, Params: params})
	if err != nil {
		return nil, d.deviceAuthFailure(err)
	}
	shown := &oauth2.DeviceAuthResponse{
		DeviceCode:              dc.DeviceCode.Reveal(),
		UserCode:                dc.UserCode,
		VerificationURI:         dc.VerificationURI,
		VerificationURIComplete: dc.VerificationURIComplete,
	}
	if err := showDeviceCode(prompt, d.Provider, shown); err != nil {
		return nil, err
	}
	wait := DefaultDeviceLifetime
	if dc.ExpiresIn > 0 {
		wait = min(dc.ExpiresIn, wait)
	}
	interval := d.Interval
	if dc.Interval > 0 {
		interval = dc.Interval
	}
	poll := maps.Clone(d.PollParams)
	if poll == nil {
		poll = url.Values{}
	}
	poll.Set("grant_type", DeviceGrantType)
	poll.Set("client_id", d.ClientID)
	poll.Set("device_code", dc.DeviceCode.Reveal())
	tok, err := PollDeviceToken(ctx, client, DevicePoll{
		Request:  Request{URL: d.TokenURL, Params: poll},
		Interval: interval,
		Deadline: now().Add(wait),
		Now:      now,
		Sleep:    d.Sleep,
		SlowDown: d.SlowDown,
	})
	if err != nil {
		return nil, d.pollFailure(ctx, err)
	}
	if !sendable(tok.AccessToken) || !tok.RefreshToken.IsZero() && !sendable(tok.RefreshToken) {
		return nil, &LoginError{Provider: d.Provider, Step: stepTokenPoll, Status: http.StatusOK, Err: errors.New("answer holds a token that cannot be sent")}
	}
	return tok, nil
}

// sendable reports whether a token can go in a header as it is.
func sendable(tok records.Secret) bool {
	return validToken(tok.Reveal())
}

// deviceAuthFailure is the *LoginError of a device authorization
// request that failed: the status and code of a refusal; an answer that
// is no device authorization, or none at all, only by its cause.
func (d *DeviceLogin) deviceAuthFailure(err error) error {
	le := &LoginError{Provider: d.Provider, Step: stepDeviceAuthorization}
	var te *TokenError
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
// before the server said so is ErrDeviceCodeExpired, the end of
// ctx its error, and every answer a *LoginError, wrapping
// ErrAccessDenied or ErrDeviceCodeExpired when it says
// that.
func (d *DeviceLogin) pollFailure(ctx context.Context, err error) error {
	le := &LoginError{Provider: d.Provider, Step: stepTokenPoll}
	var te *TokenError
	var me *malformedResponseError
	switch {
	case errors.As(err, &te):
		le.Status, le.Code = te.Status, te.Code
		switch {
		case errors.Is(err, ErrAccessDenied):
			le.Err = ErrAccessDenied
		case errors.Is(err, ErrDeviceCodeExpired):
			le.Err = ErrDeviceCodeExpired
		}
	case errors.Is(err, ErrDeviceCodeExpired):
		return fmt.Errorf("%s: login: %w", d.Provider, ErrDeviceCodeExpired)
	case errors.As(err, &me):
		le.Status, le.Err = me.Status, err
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		le.Err = err
	}
	return le
}
