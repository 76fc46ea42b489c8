package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/authvault/authvault/records"
)

// DeviceGrantType is the grant_type of a device token poll (RFC 8628).
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Defaults of the device flow (RFC 8628 §3.2, §3.5).
const (
	DefaultDeviceInterval = 5 * time.Second
	DefaultDeviceLifetime = 15 * time.Minute
	// maxDeviceInterval bounds a server's interval (or slow_down growth):
	// a hostile value must not stall the login for hours.
	maxDeviceInterval = time.Minute
)

// DeviceCode is a device authorization answer.
type DeviceCode struct {
	// DeviceCode authorizes the polling: a secret.
	DeviceCode records.Secret
	// UserCode is what the user types at VerificationURI.
	UserCode string
	// VerificationURI is where the user goes. Google names it
	// verification_url; both are read.
	VerificationURI string
	// VerificationURIComplete embeds the user code, when the server gives one.
	VerificationURIComplete string
	// ExpiresIn is the device code's lifetime, 0 when not given.
	ExpiresIn time.Duration
	// Interval is the minimum wait between polls, 0 when not given.
	Interval time.Duration
	// Extra holds the other fields of the answer.
	Extra map[string]json.RawMessage
}

// RequestDeviceCode posts a device authorization request (RFC 8628 §3.1).
func RequestDeviceCode(ctx context.Context, client *http.Client, req Request) (*DeviceCode, error) {
	status, body, err := post(ctx, client, req)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, &malformedResponseError{Status: status, Reason: "device authorization answer is not a JSON object"}
	}
	dc := &DeviceCode{Extra: map[string]json.RawMessage{}}
	for k, v := range fields {
		switch k {
		case "device_code":
			dc.DeviceCode = records.Secret(jsonString(v))
		case "user_code":
			dc.UserCode = jsonString(v)
		case "verification_uri", "verification_url":
			dc.VerificationURI = jsonString(v)
		case "verification_uri_complete", "verification_url_complete":
			dc.VerificationURIComplete = jsonString(v)
		case "expires_in":
			dc.ExpiresIn = jsonSeconds(v)
		case "interval":
			dc.Interval = jsonSeconds(v)
		default:
			dc.Extra[k] = v
		}
	}
	if dc.DeviceCode.IsZero() || dc.UserCode == "" || dc.VerificationURI == "" {
		return nil, &malformedResponseError{Status: status, Reason: "device authorization answer lacks device_code, user_code or verification_uri"}
	}
	return dc, nil
}

// DevicePoll configures PollDeviceToken.
type DevicePoll struct {
	// Request is the token request: grant_type=DeviceGrantType,
	// device_code, client_id and whatever else the provider needs.
	Request Request
	// Interval is the server's polling interval; 0 means 5 s.
	Interval time.Duration
	// Deadline ends the polling; zero means 15 minutes from the start.
	Deadline time.Time
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; nil means a real timer. Tests
	// inject one that returns at once and records d.
	Sleep func(ctx context.Context, d time.Duration) error
	// SlowDown returns the interval after a slow_down answer, given the
	// current one and the interval the answer asked for (0 when it named
	// none); nil means RFC 8628's +5 s. Providers that differ (Qwen
	// multiplies, GitHub names the interval) set it.
	SlowDown func(interval, asked time.Duration) time.Duration
}

// PollDeviceToken polls the token endpoint until the user approves the
// device code, denies it, or it expires. authorization_pending and
// slow_down are recognised by their error code whatever the HTTP status
// (GitHub answers 200, Qwen 400/429, Google 428), and a 429 is a
// slow_down whatever its code. It waits before every poll, as RFC 8628
// asks.
//
// The user's refusal is an *AuthorizationError (ErrAccessDenied), an
// expired code ErrDeviceCodeExpired; when the server said so, the error
// also holds its answer as a *TokenError. Other refusals are the
// *TokenError, an unusable 2xx answer a *malformedResponseError, and the
// end of ctx its error.
func PollDeviceToken(ctx context.Context, client *http.Client, p DevicePoll) (*TokenResponse, error) {
	now := p.Now
	if now == nil {
		now = time.Now
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	slowDown := p.SlowDown
	if slowDown == nil {
		slowDown = func(d, _ time.Duration) time.Duration { return d + 5*time.Second }
	}
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultDeviceInterval
	}
	interval = min(interval, maxDeviceInterval)
	deadline := p.Deadline
	if deadline.IsZero() {
		deadline = now().Add(DefaultDeviceLifetime)
	}
	for {
		if err := sleep(ctx, interval); err != nil {
			return nil, err
		}
		if !now().Before(deadline) {
			return nil, ErrDeviceCodeExpired
		}
		status, body, err := post(ctx, client, p.Request)
		if err == nil {
			return parseToken(status, body)
		}
		var te *TokenError
		if !errors.As(err, &te) {
			return nil, err
		}
		switch {
		case te.Code == "authorization_pending":
		case te.Code == "slow_down" || te.Status == http.StatusTooManyRequests:
			interval = min(slowDown(interval, askedInterval(body)), maxDeviceInterval)
		case te.Code == "expired_token":
			return nil, &deviceAnswerError{ErrDeviceCodeExpired, te}
		case te.Code == "access_denied":
			return nil, &deviceAnswerError{&AuthorizationError{Code: te.Code, Description: te.Description}, te}
		default:
			return nil, err
		}
	}
}

// askedInterval reads the interval a slow_down answer names, 0 for none.
func askedInterval(body []byte) time.Duration {
	var a struct {
		Interval json.RawMessage `json:"interval"`
	}
	if json.Unmarshal(body, &a) != nil {
		return 0
	}
	return jsonSeconds(a.Interval)
}

// deviceAnswerError is a poll answer that ends the device flow: err is
// what it means, answer the answer itself.
type deviceAnswerError struct {
	err    error
	answer *TokenError
}

func (e *deviceAnswerError) Error() string   { return e.err.Error() }
func (e *deviceAnswerError) Unwrap() []error { return []error{e.err, e.answer} }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
