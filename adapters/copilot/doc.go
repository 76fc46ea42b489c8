// Package copilot is the adapter for GitHub Copilot accounts, on github.com
// and on GitHub Enterprise hosts.
//
// Importing the package registers New() for provider "copilot" with
// honest defaults: requests say they come from authvault
// (Copilot-Integration-Id "authvault", Editor-Version "authvault/<version>",
// User-Agent "authvault/<version>"); an embedding application should name
// itself with WithIntegrationID and WithEditorVersion, handing its
// New(…) to authvault.WithAdapter. Nothing here claims to be an editor it
// is not.
//
// # Record layout
//
// A Copilot account is an OAuth record:
//
//   - OAuth.Refresh holds the GitHub token (the long-lived credential a
//     device login yields; "refresh" because it is what obtains new access
//     tokens, not an OAuth refresh token).
//   - OAuth.Access holds the short-lived Copilot token, OAuth.Expiry the
//     moment to replace it (see Refresh).
//   - Meta["api_endpoint"] holds the account's API base (endpoints.api of
//     the token exchange, e.g. https://api.individual.githubcopilot.com);
//     Meta["plan"] the Copilot SKU.
//   - Namespace is the GitHub host: "default" for github.com, else an
//     enterprise host such as "octocorp.ghe.com".
//
// A record imported from a file that holds only a GitHub token has an empty
// Access: Refresh it before use.
//
// # Which function to call
//
// Login runs GitHub's device flow (RFC 8628, scope read:user) for an
// explicitly configured OAuth client (WithClientID; GitHub's own Copilot
// editor client is offered only as the named preset "github-copilot"),
// prints the code to a writer, then exchanges the GitHub token for a Copilot
// token and returns the record. It ends like every device login:
// provider.ErrAccessDenied, provider.ErrDeviceCodeExpired, or a
// *provider.LoginError. Refresh repeats the exchange:
// GET copilot_internal/v2/token with "Authorization: token <GitHub token>".
// A 403 there means the GitHub account has no Copilot seat: Refresh returns
// a Permanent *adapters.RefreshError wrapping ErrNoCopilotAccess.
//
// Authorize sends the Copilot token as a bearer token to the account's API
// endpoint (scheme and host rewritten per account); Classify reads the
// OpenAI-compatible errors the Copilot API answers with.
package copilot
