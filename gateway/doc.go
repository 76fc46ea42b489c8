// Package gateway is a reverse proxy on loopback that gives any tool the
// pool's same-request rotation and exactly-once refresh by pointing its
// base URL at it: Claude Code, Codex CLI, Gemini CLI, OpenCode, aider,
// and the SDKs of any language. `vaultkey serve` runs it.
//
// A request to http://ADDR/PROVIDER/PATH is sent to the provider's origin
// + PATH (and query) with an account of the provider's pool:
// /anthropic/v1/messages goes to https://api.anthropic.com/v1/messages,
// /openai/v1/chat/completions to https://api.openai.com/v1/chat/completions.
// An account whose record names a base URL of its own is re-pointed
// there by its adapter. Any path under the prefix is forwarded. A
// namespace other than "default" is addressed as /PROVIDER@NAMESPACE/PATH.
//
//	v, _ := authvault.OpenVault(ctx, dir, nil)
//	g, err := gateway.New(ctx, v, gateway.WithLogger(logger))
//	…
//	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
//	srv.Serve(listener) // a loopback listener
//	…
//	srv.Shutdown(ctx) // let streams finish
//	g.Close()         // write the last usage counts
//
// # Clients
//
// Local programs present a token of their own, never a provider
// credential: AddClient creates one, RemoveClient revokes it at the next
// request of every gateway on the vault. The vault keeps only the
// token's SHA-256 digest, in a record of the provider ClientProvider:
// sealed and committed with the manifest like an account, so that an
// older copy of the vault's files put back does not revive a removed
// token, and backups carry the clients. The token is read from x-api-key,
// Authorization: Bearer or x-goog-api-key, whichever the client sends,
// compared in constant time, and removed before the request goes on; the
// adapter then sets the serving account's credential. A request without
// a known token is answered 401 in the provider's error shape and
// nothing is sent upstream.
//
// # Safe by default
//
//   - The Host header must be localhost, 127.0.0.1, [::1] or a name given
//     with WithHosts, else 421 (DNS rebinding).
//   - No CORS headers are ever sent; Forwarded and X-Forwarded-* headers
//     are neither trusted nor added.
//   - Nothing in a request chooses the upstream: it is the provider's
//     default origin, or the account's own base URL.
//   - Request bodies are bounded (WithMaxBody, 32 MiB): larger is 413.
//   - Bodies, tokens and credentials are never logged; the access log
//     names client, provider, account label, status, latency and bytes.
//
// # Streams and errors
//
// Responses are passed on as they arrive, flushed per write: an SSE
// stream is not buffered. A client that goes away cancels the upstream
// request. Rotation (429, exhausted quota, 401 and refresh) happens
// before the first byte reaches the client; after that the stream is the
// client's. Upstream errors go back unmodified (status, body,
// Retry-After, rate-limit headers). When no account can serve, the
// answer is a 429 in the provider's error shape with Retry-After.
// Protocol upgrades (WebSocket) are not forwarded: 501.
//
// # Usage, metrics, health
//
// Requests, statuses and input/output tokens (read from the responses'
// usage, streams included, without buffering them) are counted per
// account and per client, with each account's last rate-limit headers,
// in the vault (package usage), flushed every few seconds and on Close.
// /metrics serves Prometheus metrics (with a client token), /healthz
// says the process is up, /readyz whether the vault reads and every
// served pool has an account ready. Several gateways on one vault
// (directory or Redis) share cooldowns, refresh each token once, and add
// up their usage.
package gateway
