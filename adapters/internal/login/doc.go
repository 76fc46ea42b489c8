// Package login holds what the logins of the bearer-dialect adapters
// (Copilot, Qwen, Cursor) have in common: the account id a login is for
// (ID), and the device authorization login (RFC 8628) of Copilot and
// Qwen (Device).
//
// Device runs oauthflow's device flow, the one every adapter uses, and
// ends the way bearer documents for all device logins: with
// bearer.ErrAccessDenied, bearer.ErrDeviceCodeExpired, or a
// *bearer.LoginError naming the step, the HTTP status and the OAuth error
// code. What differs between providers stays in the adapter: the
// endpoints, the extra parameters (scope, PKCE), the poll interval and the
// slow_down rule, and what the token answer becomes.
package login
