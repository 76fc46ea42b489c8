// Package oauthflow holds the OAuth 2.0 client pieces that provider
// adapters share: PKCE and state generation, a loopback redirect
// listener, the paste-the-code form, token endpoint requests (form or
// JSON bodies) with typed, secret-free errors, the device authorization
// grant (RFC 8628) with an injectable sleep, and unverified JWT payload
// decoding.
//
// An adapter's login runs a CodeFlow (authorization code + PKCE, with a
// loopback or pasted redirect) or RequestDeviceCode followed by
// PollDeviceToken, then turns the TokenResponse into a record. Its
// Refresh calls ResolveRefresh (which client, which endpoint), then
// PostToken (or golang.org/x/oauth2, with FromRetrieveError), and maps
// failures with AsRefreshError.
//
// Errors never contain a token, code, verifier or secret: the values sent
// are scrubbed from any text the server echoes back, and free text from
// servers is shortened and stripped of control characters.
package oauthflow
