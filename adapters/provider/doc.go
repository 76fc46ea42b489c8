// Package provider holds what authvault's provider adapters share: the
// OAuth logins and refresh, their typed errors, rate-limit hint parsing,
// and the credential helpers. The adapters in adapters/anthropic, openai,
// google, qwen, copilot, cursor and bearer are built from it; an adapter
// for another provider can be too.
//
// Callers of the adapters meet this package through its errors: every
// adapter's login and refresh end with the same values, whatever the
// provider, so one errors.Is or errors.As covers them all.
//
//   - ErrClientIDRequired: a login was started without an OAuth client.
//   - ErrAccessDenied: the user declined (an *AuthorizationError with the
//     code access_denied is this error too).
//   - ErrDeviceCodeExpired: a device code was not approved in time.
//   - ErrStateMismatch, ErrMissingCode: a redirect or paste that does not
//     answer the login in progress.
//   - *LoginError: a login step the provider refused, with the step, the
//     HTTP status and the OAuth error code.
//   - *TokenError: a token endpoint's OAuth error answer.
//   - ErrNoCredential, ErrUnsupportedKind, ErrWrongProvider,
//     ErrInvalidToken: records Authorize cannot send.
//   - ErrInvalidBaseURL, *ConfigError: a URL or an option value an adapter
//     cannot use.
//
// API-key accounts of any provider are built with APIKeyRecord; OAuth
// clients offered as presets are Client values.
//
// # Writing an adapter
//
// Logins: CodeFlow runs the authorization code grant with PKCE: Run up to
// the code, through a loopback redirect listener or a pasted code
// (Redirect), Exchange for the tokens; the adapter turns the
// TokenResponse into a record (TokenResponse.Apply). DeviceLogin is the
// device authorization grant (RFC 8628) as Copilot and Qwen run it, built
// on RequestDeviceCode and PollDeviceToken, whose clock, sleep and
// slow_down rule are injectable.
//
// Refresh: RefreshGrant sends a refresh_token grant and applies the
// answer; ResolveRefresh finds the client and endpoint a record's tokens
// belong to; AsRefreshError, FromRetrieveError (for golang.org/x/oauth2)
// and RefreshFailure map failures to the *adapters.RefreshError that
// Adapter.Refresh returns.
//
// Classify: ClassifyError settles successes, hands the bounded error
// body to the adapter's own reading and scrubs the reason; RetryAfter, Resets (per-limit reset headers), GoDuration,
// RFC3339, Timestamp, RetryIn, Seconds and Unix read the provider's
// signals into a time, capped by Cap to MaxRetryAfter; Code keeps
// only identifier-shaped codes for a reason. Classifier is the whole
// Classify of OpenAI-compatible APIs.
//
// Authorize: SetCredential (API key or access token), SetBearer, and
// RebaseAccount / RebaseRequest to move a request to an account's own
// base URL (ParseBaseURL). Requests the adapters make themselves say who
// sends them (DefaultUserAgent); none claims to be another product.
//
// # What it guarantees
//
// Errors never contain a token, code, verifier or secret: the values a
// request sent are cut from any text a server echoes back, free text is
// shortened and stripped of control characters, and codes are kept only
// when they look like identifiers. Bodies are read bounded. Hint parsers
// are strict about the form they accept and never panic: a malformed,
// negative or overflowing value is no hint (the pool backs off on its
// own), a time in the past means now.
package provider
