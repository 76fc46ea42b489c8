// Package oauthflow holds the OAuth 2.0 client pieces that provider
// adapters share: PKCE and state generation, a loopback redirect
// listener, the paste-the-code form, token endpoint requests (form or
// JSON bodies) with typed, secret-free errors, the device authorization
// grant (RFC 8628) with an injectable sleep, and unverified JWT payload
// decoding.
//
// An adapter's login runs a CodeFlow (authorization code + PKCE, with a
// loopback or pasted redirect; authRequest builds the authorization URL
// for adapters that do not use golang.org/x/oauth2 for it) or
// RequestDeviceCode followed by PollDeviceToken, then turns the
// TokenResponse into a record (Apply copies the tokens, expiry and
// scopes). PollDeviceToken is the one device flow of all adapters: a
// provider's slow_down rule (Qwen multiplies the interval, GitHub names
// it) is its SlowDown hook, and its clock and sleep are injectable.
//
// An adapter's Refresh runs a RefreshGrant (ResolveRefresh: which client,
// which endpoint; then PostToken; failures mapped with AsRefreshError),
// or golang.org/x/oauth2 with FromRetrieveError.
//
// The errors are shared by every adapter's login: ErrClientIDRequired,
// ErrAccessDenied (also an *AuthorizationError with the code
// access_denied), ErrDeviceCodeExpired, and the typed *TokenError and
// *malformedResponseError. Provider packages re-export them.
//
// Errors never contain a token, code, verifier or secret: the values sent
// are scrubbed from any text the server echoes back, and free text from
// servers is shortened and stripped of control characters.
package provider
