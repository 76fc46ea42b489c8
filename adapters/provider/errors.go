package provider

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors of the logins, refreshes and credentials of every provider
// adapter: a caller checks one value whatever the provider (errors.Is).
var (
	// ErrClientIDRequired: a login was started without an OAuth client id.
	// Client registration is explicit configuration, never a default.
	ErrClientIDRequired = errors.New("an OAuth client id is required (choose a preset or pass your own)")
	// ErrStateMismatch: the redirect or pasted code carried another
	// authorization request's state (or none): possible request forgery.
	ErrStateMismatch = errors.New("OAuth state mismatch")
	// ErrMissingCode: the redirect carried no authorization code.
	ErrMissingCode = errors.New("no authorization code received")
	// ErrMalformedResponse: an endpoint answered 2xx with a body that is
	// not the expected JSON, lacks the token, or is too large.
	ErrMalformedResponse = errors.New("malformed OAuth endpoint response")
	// ErrDeviceCodeExpired: the user did not approve the device code in time.
	ErrDeviceCodeExpired = errors.New("device code expired before it was approved")
	// ErrAccessDenied: the user declined the authorization request. An
	// *AuthorizationError with the code access_denied is this error.
	ErrAccessDenied = errors.New("the authorization request was denied")
	// ErrMalformedJWT: a token is not a decodable JWT.
	ErrMalformedJWT = errors.New("malformed JWT")
	// ErrNoRefreshToken: an OAuth record without a refresh token.
	ErrNoRefreshToken = errors.New("record has no refresh token")
	// ErrNoCredential: Authorize was given a record that holds no token
	// to send (an empty key, or an OAuth record whose access token has
	// not been obtained yet: refresh it first).
	ErrNoCredential = errors.New("record holds no token to send")
	// ErrUnsupportedKind: the record's credential kind cannot be used
	// with the provider.
	ErrUnsupportedKind = errors.New("unsupported credential kind")
	// ErrWrongProvider: an adapter was handed another provider's record.
	ErrWrongProvider = errors.New("record belongs to another provider")
	// ErrInvalidBaseURL: a base URL (or a URL a server wants the user to
	// open) that cannot be used; the error names it without its password.
	ErrInvalidBaseURL = errors.New("invalid base URL")
	// ErrInvalidToken: a token cannot be sent in an HTTP header (control
	// characters). The token itself is never named.
	ErrInvalidToken = errors.New("token holds characters that cannot be sent in a header")
)

// ConfigError is an adapter option that was given a value it cannot use.
type ConfigError struct {
	Option string
	Reason string
}

func (e *ConfigError) Error() string {
	return "invalid option " + e.Option + ": " + e.Reason
}

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

// AuthorizationError is an error the authorization server reported
// through the redirect (error=access_denied…) or a device poll.
type AuthorizationError struct {
	Code        string
	Description string
}

func (e *AuthorizationError) Error() string {
	s := "authorization failed: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Is reports an access_denied refusal as ErrAccessDenied, whichever flow
// delivered it.
func (e *AuthorizationError) Is(target error) bool {
	return target == ErrAccessDenied && e.Code == "access_denied"
}

// malformedResponseError is a 2xx answer that cannot be used: not the
// expected JSON object, without the token or code it must hold, or too
// large. It is ErrMalformedResponse (errors.Is).
type malformedResponseError struct {
	Status int
	// Reason says what is wrong, never quoting the body.
	Reason string
}

func (e *malformedResponseError) Error() string {
	return fmt.Sprintf("%v: HTTP %d: %s", ErrMalformedResponse, e.Status, e.Reason)
}

func (e *malformedResponseError) Unwrap() error { return ErrMalformedResponse }

// TokenError is an OAuth error answer from a token or device endpoint
// (RFC 6749 §5.2, or a provider's {"error":{"code",…}} variant).
type TokenError struct {
	// Status is the HTTP status; 200 for servers that report errors in a
	// 2xx body.
	Status int
	// Code is the OAuth error code (invalid_grant, refresh_token_reused…),
	// empty when the body had none.
	Code string
	// Description is the server's explanation, shortened, with control
	// characters and every value the request sent removed.
	Description string
}

func (e *TokenError) Error() string {
	s := fmt.Sprintf("OAuth endpoint answered HTTP %d", e.Status)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// permanentCodes are token endpoint error codes that mean the grant (the
// refresh token or the authorization code) is dead: retrying the same
// request cannot succeed.
var permanentCodes = map[string]bool{
	"invalid_grant":             true, // RFC 6749: revoked, expired, reused, or issued to another client
	"invalid_client":            true, // the client id (or secret) is not accepted
	"unauthorized_client":       true,
	"refresh_token_expired":     true, // OpenAI
	"refresh_token_reused":      true, // OpenAI: single-use token used twice
	"refresh_token_invalidated": true, // OpenAI: revoked
	"access_denied":             true,
	"expired_token":             true, // RFC 8628
}

// permanent reports whether the error means the grant is dead and only a
// new login helps: a known permanent code, or a bare 401.
func (e *TokenError) permanent() bool {
	if permanentCodes[strings.ToLower(e.Code)] {
		return true
	}
	return e.Code == "" && e.Status == 401
}

const maxDescription = 200

// cleanText makes server free text safe to put in an error: every secret
// value is cut out, control characters become spaces, and the result is
// bounded.
func cleanText(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			r = ' '
		}
		if b.Len()+utf8.RuneLen(r) > maxDescription {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// cleanCode keeps an error code only if it looks like one (see Code) and
// holds none of the values the request sent (a hostile or broken server
// may echo a refresh token as its "error").
func cleanCode(s string, secrets []string) string {
	if containsSecret(s, secrets) {
		return ""
	}
	return Code(s)
}

// MetaValue returns s if it is fit to store as a record's Meta value
// (a fact a server reported: an email, an organization name): at most
// 255 bytes of valid UTF-8 without control characters; else "".
func MetaValue(s string) string {
	if len(s) > 255 || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return ""
		}
	}
	return s
}

// containsSecret reports whether s holds any of secrets (those of 4 bytes
// or more: shorter values are no credential and would match by chance).
func containsSecret(s string, secrets []string) bool {
	for _, v := range secrets {
		if len(v) >= 4 && strings.Contains(s, v) {
			return true
		}
	}
	return false
}
