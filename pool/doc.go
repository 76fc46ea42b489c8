// Package pool decides which account of a provider serves the next
// request, and remembers what happened to each account: rate limits,
// exhausted quotas, dead credentials, counters.
//
// # Use
//
// Open a pool on a vault for one provider and namespace, then for every
// request Acquire a lease, send the request with the lease's credential,
// and Report the outcome on that lease:
//
//	p, err := pool.Open(ctx, v, pool.Key{Provider: "anthropic", Namespace: "default"})
//	...
//	defer p.Close()
//
//	lease, err := p.Acquire(ctx, pool.Hint{Session: conversationID, Model: "claude-sonnet-4-5"})
//	var ex *pool.ExhaustedError
//	if errors.As(err, &ex) {
//		// every account is cooling down, disabled or needs a login;
//		// ex.Soonest says when one is ready again (zero: not by itself)
//	}
//	rec, err := lease.Record(ctx) // the credential, read through the vault
//	... send ...
//	p.Report(lease, outcome) // an adapter's Classify builds the outcome
//
// Report blames the lease's account, never whichever account is current
// by the time the response arrives: with many requests in flight, the one
// that ran into a 429 is the one cooled down. The transport package does
// all of this for an http.Client; use the pool directly only to build
// something else.
//
// # Choosing an account
//
// Accounts are the vault's records for the key, in an order the operator
// sets (Move; a new account goes last). The strategy picks among
// the accounts that are ready:
//
//   - FillFirst (default): the first ready account in order. Staying on one
//     account keeps the provider's prompt cache warm; the next account is
//     used only while the first cools down.
//   - RoundRobin: each ready account in turn.
//   - LeastRecentlyUsed: the ready account unused for longest.
//
// A Hint with a Session keeps that session on its account while the account
// is ready (for 1h after its last use); bindings live
// in memory only.
//
// # Cooldowns
//
// RateLimited and QuotaExhausted outcomes cool an account down:
//
//   - until the server's hint (Outcome.Until), capped at 1h for rate
//     limits and 7 days for quotas;
//   - without a hint, by exponential backoff: 1s doubling up to 30min for
//     rate limits, 1h doubling up to 24h for quotas;
//   - a rate limit reported on a lease handed out before the current
//     cooldown window opened does not escalate it: twenty requests in
//     flight that all get a 429 step the backoff once, not twenty times;
//   - a Success resets the backoff.
//
// AuthRejected is only counted (the transport refreshes and retries);
// NeedsReauth sets a persistent flag that keeps the account out until a
// successful refresh (RecordRefresh, or a Success reported with
// Refreshed set) or a new login (ClearNeedsReauth); Fatal disables the
// account with the outcome's reason until Enable. Overloaded and Transient
// are not the account's fault and change nothing but counters.
//
// # Sharing between processes
//
// The pool state (order, cooldowns, flags, counters) is one sealed state
// blob in the vault, "pool." and a digest of the key. Every change is written under the
// vault's lock as a merge: the blob is re-read, this process's changes are
// applied to it, and the result written, so a process never overwrites
// another's newer cooldown with its own stale copy. Acquire checks with one
// stat whether another process changed the blob and re-reads it when it
// did: a cooldown reported in any process is honoured by the next Acquire
// in every other. Cooldowns, flags and order are written at once (with
// WithWriteBehind, by the next Flush: the transport flushes before
// RoundTrip returns, one write for all a request changed); request
// counters at least every 15 s, and on Close.
//
// A token is refreshed through its lease: Lease.Refresh holds the
// record's lock, shared by every process, reads the record as last
// committed and stores what the refresh returns, so a refresh token is
// used once however many processes found the token expired.
//
// Two kinds of data are kept apart. The operator's decisions, the order
// and disabled accounts (with reason and time), are written into the
// records themselves (records.Record Position and Disabled): sealed,
// rollback-protected, in backups and copies. The pool state holds a copy
// of them, so every process follows a change at once, and the
// observations: cooldowns, needs-reauth and unreadable marks, counters.
// Whenever the pool lists the vault, the records' decisions win.
//
// A state blob that fails authentication or does not decode does not stop
// the pool: it starts from a clean state (cooldowns and counters
// forgotten; the order and disabled accounts come back from the records,
// accounts no record places last, oldest first) and the records are not
// touched. The problem is returned by Health, as an error wrapping
// vault.ErrTampered or ErrCorruptState.
//
// # Cost
//
// The accounts are a slice in the operator's order, and choosing one scans
// it from the strategy's starting point to the first account that can
// serve: pools hold a handful to a few hundred accounts, and a fill-first
// pool whose first account is ready looks at one. Acquire plus Report
// allocate only the Lease, besides what the store's StateChanged costs
// (for *vault.Vault in a directory, a stat of the state file at most).
// Acquire does not read the credential: Lease.Record does, from the
// vault's decrypted cache.
//
// # Operating
//
// Accounts and Account return snapshots for display (availability,
// cooldowns, reasons, counters). Move, Disable, Enable, Reset,
// ClearNeedsReauth and RecordRefresh change the shared state at once.
package pool
