package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters/internal/oauthflow"
)

// Device-login results shared by every adapter with an RFC 8628 login, so a
// caller can tell them apart whatever the provider. They are the values the
// Anthropic, OpenAI and Google logins return too (their ErrClientIDRequired
// is ErrNoClientID, and their *AuthorizationError with the code
// access_denied is ErrAccessDenied).
var (
	// ErrAccessDenied: the user declined the authorization request.
	ErrAccessDenied = oauthflow.ErrAccessDenied
	// ErrDeviceCodeExpired: the device code expired before the user
	// approved it. Start the login again.
	ErrDeviceCodeExpired = oauthflow.ErrDeviceCodeExpired
	// ErrNoClientID: a login needs an OAuth client registration.
	ErrNoClientID = oauthflow.ErrClientIDRequired
)

// LoginError is a login step the provider refused. It names the step, the
// HTTP status and the OAuth error code, never a body or a token.
type LoginError struct {
	Provider string
	Step     string // "device authorization", "token poll", …
	Status   int    // 0 when no response arrived
	Code     string // OAuth error code, when a short identifier
	Err      error
}

func (e *LoginError) Error() string {
	s := e.Provider + ": login failed at " + e.Step
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LoginError) Unwrap() error { return e.Err }

// DeviceAuthFailure turns an error from oauth2.Config.DeviceAuth into a
// *LoginError without copying the response body.
func DeviceAuthFailure(provider string, err error) error {
	le := &LoginError{Provider: provider, Step: "device authorization"}
	var rerr *oauth2.RetrieveError
	var uerr *url.Error
	switch {
	case errors.As(err, &rerr):
		if rerr.Response != nil {
			le.Status = rerr.Response.StatusCode
		}
		if IsIdentifier(rerr.ErrorCode) {
			le.Code = rerr.ErrorCode
		}
	case errors.Is(err, context.Canceled):
		le.Err = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		le.Err = context.DeadlineExceeded
	case errors.As(err, &uerr):
		le.Err = uerr
	default:
		le.Err = errors.New("malformed device authorization response")
	}
	return le
}

// ShowDeviceCode checks a device authorization response and writes the
// verification URL and user code to w for the user. The URLs must be https
// (or http on a loopback host); the user code is printed only if it is
// plain printable text, so a hostile server cannot inject terminal escapes.
// The device code, which is a credential, is never written.
func ShowDeviceCode(w io.Writer, provider string, da *oauth2.DeviceAuthResponse) error {
	fail := func(reason string) error {
		return &LoginError{Provider: provider, Step: "device authorization", Err: errors.New(reason)}
	}
	if da.DeviceCode == "" {
		return fail("response has no device_code")
	}
	if da.UserCode == "" || len(da.UserCode) > 64 || !printable(da.UserCode) {
		return fail("response has no usable user_code")
	}
	if _, err := ParseVerificationURL(da.VerificationURI); err != nil {
		return fail("verification_uri: " + err.Error())
	}
	open := da.VerificationURI
	if da.VerificationURIComplete != "" {
		if _, err := ParseVerificationURL(da.VerificationURIComplete); err != nil {
			return fail("verification_uri_complete: " + err.Error())
		}
		open = da.VerificationURIComplete
	}
	_, err := fmt.Fprintf(w, "To sign in to %s, open %s\nand enter the code %s\n", provider, open, da.UserCode)
	return err
}

// ParseVerificationURL checks a URL a server wants the user to open: https
// (or http on a loopback host), with a host, printable. Unlike a base URL it
// may carry a query (the user code).
func ParseVerificationURL(s string) (*url.URL, error) {
	if s == "" || len(s) > 2048 || !printable(s) {
		return nil, &BaseURLError{Reason: "not a printable URL"}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, &BaseURLError{Reason: "not a URL"}
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname())) || u.Host == "" || u.User != nil {
		return nil, &BaseURLError{URL: u.Redacted(), Reason: "must be an https URL"}
	}
	return u, nil
}

func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar }) < 0
}
