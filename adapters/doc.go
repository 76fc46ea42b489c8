// Package adapters is where everything provider-specific lives: how a
// request carries an account's credential, how a provider says "rate
// limited" or "out of quota", and how a token is refreshed. The transport
// does the rotation and knows no provider; an Adapter tells it what it
// needs to know about one.
//
// Most programs use an adapter without naming it: importing a provider's
// package registers its adapter (Register, from init), and authvault's
// root package imports every provider this module has, so
//
//	hc, err := authvault.HTTPClient(ctx, "anthropic")
//
// finds the anthropic adapter through Lookup. Providers lists what is
// registered.
//
// # The interface
//
// An Adapter has four methods, each with one job:
//
//   - Provider returns the lower-case provider id ("anthropic").
//   - Authorize sets the credential headers on a clone of the request the
//     transport owns, and, where the account dictates its own endpoint
//     (Copilot's token endpoints, Qwen's resource URL), its scheme and host.
//   - Classify turns a response into a pool.Outcome (success, rate
//     limited until a time, quota exhausted, auth rejected, overloaded,
//     transient), reading the provider's documented signals. It reads an
//     error body bounded (PeekBody, MaxErrorBody) and leaves the whole body
//     in place for the caller.
//   - Refresh returns a copy of the record with a new access token, or
//     ErrNotRefreshable for credentials that have none, or a
//     *RefreshError whose Permanent field says the account needs a new
//     login.
//
// Each provider package's New returns its Adapter; the concrete types
// are unexported, since the transport needs only the interface. Logins
// are package functions (anthropic.Login, copilot.Login…).
//
// # Shared pieces and custom providers
//
// adapters/provider holds what the provider packages share: the OAuth
// code and device logins, token refresh, the errors every login and
// refresh ends with (provider.ErrAccessDenied, *provider.LoginError…,
// matched with errors.Is and errors.As whatever the provider), rate-limit
// hint parsing (Retry-After, reset headers, provider.Classifier for
// OpenAI-style APIs), and the credential helpers (bearer header, an
// account's own base URL). API-key records of any provider are
// provider.APIKeyRecord.
//
// For a provider that takes "Authorization: Bearer" and answers
// OpenAI-style errors, adapters/bearer is the adapter: bearer.New with
// the provider's base URL, then Register it (or hand it to
// authvault.WithAdapter). For anything else, implement the interface with
// the pieces of adapters/provider and Register the value.
//
// # What adapters guarantee
//
// No credential reaches a log line, an error or an outcome reason: a
// provider that echoes the key it was sent into its error body has that
// reason withheld (ScrubOutcome, ScrubRefreshError), and refresh errors
// name the OAuth error code, never a token. Bodies are read bounded
// (ReadBody, PeekBody), so an endless or huge answer costs bounded time
// and memory. No adapter impersonates another client: authvault moves
// credentials, it does not disguise them.
package adapters
