// Package qwen is the adapter for Qwen accounts signed in with Qwen's OAuth
// device authorization (chat.qwen.ai), whose API is OpenAI-compatible.
//
// Importing the package registers New() for provider "qwen" with default
// endpoints and no OAuth client: enough to authorize, classify and refresh
// stored accounts (a record names the client its tokens belong to).
//
// # Logging in
//
// A login needs an OAuth client registration, which is always explicit:
//
//	rec, err := qwen.Login(ctx, http.DefaultClient, records.ID{Label: "me"}, os.Stderr,
//		qwen.WithClientID(id))
//
// Login runs the device authorization grant (RFC 8628) with PKCE: it prints
// the verification URL and user code to the writer, polls the token
// endpoint (authorization_pending keeps polling; slow_down, or a 429,
// multiplies the interval by 1.5, up to a cap), and returns an OAuth
// record. It ends like every device login: provider.ErrAccessDenied,
// provider.ErrDeviceCodeExpired, or a *provider.LoginError. authvault has no Qwen client registration of its own; the public
// client of Qwen Code is offered as the preset "qwen-code" (see Preset,
// QwenCodeClientID), to be chosen knowingly, never as a silent default. (Qwen discontinued the
// free tier of its OAuth sign-in in April 2026.)
//
// # Sending requests
//
// The token response's resource_url is kept in Meta["resource_url"]; it is
// the account's own API base (https://<resource_url>/v1 when it names no
// scheme or path). Authorize sends the access token as
// a bearer token and re-points the request at that base, so two accounts on
// two hosts each reach their own. Point SDKs at DefaultBaseURL.
//
// Refresh is a form-encoded OAuth refresh grant through golang.org/x/oauth2;
// refresh tokens rotate and the new one is in the result. Classify reads
// OpenAI-style errors plus DashScope's quota codes.
package qwen
