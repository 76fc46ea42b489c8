// Package oauthtest is a fake OAuth 2.0 authorization server for the
// tests of the adapters and of vaultkey: an authorization endpoint that
// approves at once (redirecting to the loopback listener, or showing
// "code#state" on a code page for the paste form), a token endpoint that
// checks the PKCE verifier, the redirect URI and the client id of each
// code exchange before answering with what the test chose, and a device
// authorization endpoint. It runs on a loopback httptest server only.
package oauthtest
