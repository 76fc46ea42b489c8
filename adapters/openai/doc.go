// Package openai is the authvault adapter for OpenAI: platform API keys,
// and ChatGPT sign-in tokens (as used by Codex) for the ChatGPT backend.
//
// Importing the package registers New() under the provider id "openai"
// (see adapters.Lookup); the transport then calls Authorize, Classify and
// Refresh. New returns the same adapter, for a transport built by hand.
//
// To add an account:
//
//   - API key: provider.APIKeyRecord(ProviderID, label, key); put the
//     organization and project ids, if any, in Meta["organization"] and
//     Meta["project"].
//   - ChatGPT sign-in: Login(ctx, LoginConfig{ClientID: …}) runs the
//     authorization code flow with PKCE against auth.openai.com with a
//     loopback redirect (or by pasting the redirect URL on a machine
//     without a browser) and returns a record to label and store.
//
// Login's errors are those of every adapter's login, in adapters/provider:
// provider.ErrClientIDRequired, provider.ErrStateMismatch, an
// *provider.AuthorizationError (provider.ErrAccessDenied when the user
// declined), or the token endpoint's *provider.TokenError.
//
// OAuth client registration is explicit: Login refuses to run without a
// ClientID. PresetCodex names the public client of the Codex CLI, whose
// registered redirect is http://localhost:1455/auth/callback. Requests
// carry only the credential headers (Authorization, chatgpt-account-id,
// OpenAI-Organization, OpenAI-Project): no product is impersonated.
//
// Login and Refresh read the account id, plan and email from the id token
// (without verifying its signature: it comes straight from the issuer
// over TLS) into rec.OAuth.AccountID and Meta "email" and "plan_type".
package openai
