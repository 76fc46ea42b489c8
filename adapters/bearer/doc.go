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
// The adapter's Authorize sends the record's token (OAuth access token,
// API key or well-known token) as a bearer token. When a record's Meta
// holds "base_url" (adapters.MetaBaseURL), a request addressed to the
// provider's default base URL (any request, for an adapter without one)
// is re-pointed at that account's own base URL, path re-rooted (see
// provider.RebaseRequest), and Origins binds that origin to the account.
//
// Refresh runs a standard OAuth 2.0 refresh grant through
// golang.org/x/oauth2 against rec.OAuth.TokenURL, or the token URL given
// with WithTokenURL, as the record's client (rec.OAuth.ClientID, else
// WithClientID) with its sealed secret (rec.OAuth.ClientSecret, else
// WithClientSecret). A refusal that will not heal (invalid_grant and every
// other 4xx answer) becomes an *adapters.RefreshError with Permanent set:
// the account needs a new login. API keys are not refreshable.
//
// Classify reads OpenAI-style signals (provider.Classifier): Retry-After,
// x-ratelimit-reset-*, and {"error":{"code","type"}} bodies, where
// insufficient_quota is a spent quota and not a short rate limit.
//
// Nothing here formats a token into an error or a log line: tokens are
// records.Secret values and leave that type only to be sent. An adapter
// prints as its provider id, never its configuration.
package bearer
