// Package anthropic is the authvault adapter for the Anthropic API
// (Claude): API keys and Claude subscription OAuth tokens.
//
// Importing the package registers New() under the provider id
// "anthropic" (see adapters.Lookup); the transport then calls
// Authorize, Classify and Refresh. New returns the same
// adapter, for a transport built by hand.
//
// To add an account:
//
//   - API key: provider.APIKeyRecord(ProviderID, label, key), then store it in the vault.
//   - OAuth: Login(ctx, LoginConfig{ClientID: …}) runs the authorization
//     code flow with PKCE, through a loopback redirect or by pasting the
//     "code#state" text Anthropic's code page shows, and returns a record
//     to label and store.
//
// Login's errors are those of every adapter's login, in adapters/provider:
// provider.ErrClientIDRequired, provider.ErrStateMismatch, an
// *provider.AuthorizationError (provider.ErrAccessDenied when the user
// declined), or the token endpoint's *provider.TokenError.
//
// OAuth client registration is explicit: Login refuses to run without a
// ClientID, and authvault ships no client of its own. PresetClaudeCode
// names the public client of Claude Code for users entitled to use it;
// Anthropic answers requests from software other than Claude Code made
// with such tokens with "This credential is only authorized for use with
// Claude Code", which Classify reports as a Fatal outcome for the
// account. Requests are never disguised as another product's: Authorize
// sets credentials and the headers the API documents, nothing else.
//
// Classify reads retry-after, the anthropic-ratelimit-*-reset headers,
// the subscription anthropic-ratelimit-unified-* windows, 529
// overloaded_error, and spend-limit errors.
package anthropic
