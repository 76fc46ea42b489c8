// Package transport gives any Go HTTP client multi-account failover: an
// http.RoundTripper that sends each request with an account from a pool
// and, when the provider answers that the account is rate limited, out of
// quota or no longer authorized, sends the same request with the next
// healthy account before the caller sees anything.
//
// Most programs use the root package's authvault.HTTPClient, which builds
// a Transport from the default vault. Build one directly to choose the
// parts:
//
//	tr := transport.New(p, adapter,
//		transport.WithObserver(transport.SlogObserver(slog.Default())))
//	client := &http.Client{Transport: tr}
//
// # Per request
//
// The body is made replayable (the caller's body for the first attempt
// and GetBody for the others, or buffered up to WithMaxReplayBody; a
// larger body is sent once, without rotation). An
// account is leased from the pool; an OAuth token that expires within the
// refresh skew is refreshed first; a clone of the request is authorized by
// the provider's adapter and sent; the adapter classifies the answer:
//
//   - success, overloaded (529, 503) and other server errors go back to the
//     caller untouched: a 2xx stream is never buffered, and there is no
//     rotation once it has been returned;
//   - rate limited or quota exhausted: the account cools down (the
//     provider's hint, else backoff), the answer is drained and closed,
//     and the next account is tried at once, with no sleep;
//   - 401/403: the token is refreshed once and the same account tried
//     again; when the refresh fails for good the account is marked as
//     needing a new login and the next one is tried; an API key rejected
//     with 401 is marked the same way.
//
// An outcome that takes an account out of service (a cooldown, a needed
// login, a refusal, an unreadable record) is in the pool's shared state
// before RoundTrip returns, even with a pool that writes behind: a process
// that exits right after a 429 leaves the cooldown for the next one.
//
// When no account can serve, the caller gets the last upstream answer, or a
// synthetic 429 when nothing was sent, with Retry-After saying when the
// soonest account is ready. WithMaxWait lets a request wait for it instead.
//
// # Where a credential may go
//
// Every account is bound to origins (scheme, host, port): those its
// adapter names (adapters.Adapter.Origins: the provider's API, the
// account's own endpoint and base URL) and those given with WithOrigins. A
// request the adapter leaves addressed to any other origin fails with an
// *OriginError before anything is sent: a request pointed elsewhere by the
// caller, the next hop of a redirect to another host, an https URL turned
// http. Test servers and gateways on loopback are bound with WithOrigins.
//
// # Refresh, exactly once
//
// Refreshes are coordinated: one per record in the process (singleflight)
// and across processes (pool.Lease.Refresh, under the vault's per-record
// lock). The transport needs nothing but the pool for it, and reads the
// time from the pool's clock (Pool.Now). Inside the lock the
// record is read again, and a token another process refreshed meanwhile is
// adopted without a network call: providers that rotate refresh tokens
// revoke the whole token family when one is used twice.
//
// # Guarantees
//
// The caller's request is never modified; every response body the
// transport does not return is closed; every wait follows the request's
// context. Events (attempt, rotate, cooldown, refresh, exhausted) go to the
// observers given with WithObserver; SlogObserver logs them without ever
// printing a credential.
package transport
