// Package google is the authvault adapter for Google's Gemini APIs: API
// keys for the Gemini API (generativelanguage.googleapis.com), and
// Google account OAuth tokens (Gemini API, Vertex AI, Code Assist).
//
// Importing the package registers New() under the provider id "google"
// (see adapters.Lookup); the transport then calls Authorize, Classify and
// Refresh. New returns the same adapter, for a transport built by hand.
//
// To add an account:
//
//   - API key: provider.APIKeyRecord(ProviderID, label, key).
//   - OAuth: Login(ctx, LoginConfig{ClientID: …, ClientSecret: …}) runs
//     Google's installed-application flow (loopback redirect with PKCE),
//     or LoginDevice for clients of the "TVs and Limited Input devices"
//     type, and returns a record to label and store. For Code Assist
//     accounts put the Cloud project id in Meta["project_id"]; the Code
//     Assist API takes it in the request body, which is the caller's.
//
// Login's errors are those of every adapter's login, in adapters/provider:
// provider.ErrClientIDRequired, provider.ErrStateMismatch, an
// *provider.AuthorizationError (provider.ErrAccessDenied when the user
// declined), or the token endpoint's *provider.TokenError.
//
// OAuth client registration is explicit: logins refuse to run without a
// ClientID. Google issues installed (desktop) applications a client
// secret that, by Google's own definition, is not confidential; Refresh
// finds it in the record's Meta["client_secret"] (stored by Login for
// clients that are not presets) or in the matching preset.
// PresetGeminiCLI names the public client of Gemini CLI; Google's Gemini
// CLI documentation says that using its OAuth client from third-party
// software violates Google's terms, so select it only where they allow
// your use. Requests carry only the credential header.
//
// Refresh goes through golang.org/x/oauth2 with Google's endpoints.
// Classify reads google.rpc.RetryInfo, ErrorInfo (RATE_LIMIT_EXCEEDED,
// QUOTA_EXHAUSTED, quotaResetDelay, quotaResetTimeStamp) and QuotaFailure
// details of RESOURCE_EXHAUSTED errors, and 503 UNAVAILABLE.
package google
