// Package bearer is the adapter for OpenAI-compatible and custom providers:
// anything that takes "Authorization: Bearer <token>".
//
// # Which function to call
//
// A custom provider is one call and one registration:
//
//	a, err := bearer.New("together",
//		bearer.WithBaseURL("https://api.together.xyz/v1"),
//	)
//	if err != nil { … }
//	adapters.Register(a)
//
// Unlike the named provider packages, bearer registers nothing by itself:
// the caller decides which provider ids it serves.
//
// [Adapter.Authorize] sends the record's token (OAuth access token, API key
// or well-known token) as a bearer token. When a record's Meta holds
// "base_url", a request addressed to the provider's default base URL (any
// request, for an adapter without one) is re-pointed at that account's own
// base URL (see [Rebase] for exactly how the path moves), and
// [Adapter.Origins] binds that origin to the account. The named adapters do
// the same with [RebaseAccount].
//
// [Adapter.Refresh] runs a standard OAuth 2.0 refresh grant through
// golang.org/x/oauth2 against rec.OAuth.TokenURL, or the token URL given with
// [WithTokenURL]. A refusal that will not heal (invalid_grant and every other
// 4xx answer) becomes an *adapters.RefreshError with Permanent set: the
// account needs a new login. API keys are not refreshable.
//
// [Adapter.Classify], and the package-level [Classifier] it is built on,
// read OpenAI-style signals: Retry-After, x-ratelimit-reset-*, and
// {"error":{"code","type"}} bodies, where insufficient_quota is a spent quota
// and not a short rate limit.
//
// # Building blocks for other adapters
//
// The Copilot, Qwen and Cursor adapters speak the same dialect and reuse
// [Classifier], [ParseBaseURL], [Rebase], [SetBearer] and
// [DefaultUserAgent]; the Qwen adapter is a bearer adapter plus a device
// login.
//
// Device logins (RFC 8628) in every adapter end the same way, so a caller
// such as vaultkey checks one set of results whatever the provider:
// [ErrAccessDenied], [ErrDeviceCodeExpired], [ErrNoClientID], or a
// *[LoginError] naming the step, status and OAuth error code. They show the
// user code with [ShowDeviceCode], which refuses non-https verification
// URLs and codes that are not plain text. The three errors are the very
// values the Anthropic, OpenAI and Google logins return (errors.Is finds
// ErrNoClientID in their ErrClientIDRequired, ErrDeviceCodeExpired in
// Google's device login, and ErrAccessDenied in an *AuthorizationError
// with the code access_denied).
//
// Nothing here formats a token into an error or a log line: tokens are
// records.Secret values and leave that type only to be sent.
package bearer
