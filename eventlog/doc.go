// Package eventlog keeps a vault's rotation log: the last events of the
// transports of every process using the vault (rotations, cooldowns,
// token refreshes, accounts taken out of service or found unreadable,
// exhaustion), so that an operator can watch a pool rotate from another
// terminal (`vaultkey accounts events --follow`, `vaultkey ui`).
//
// A Log observes a transport (Observe). authvault.Open installs one beside any
// observer of the program's own, so most programs never build one:
//
//	log := eventlog.New(v, pool.Key{Provider: "anthropic", Namespace: "default"})
//	tr := transport.New(p, a, transport.WithObserver(log.Observe))
//	defer log.Close()
//
// Observe only queues the event; a background writer appends the queue
// to one sealed state blob of the vault (StateName) a moment later, and
// Close writes it at once. The blob keeps the last Max entries of
// the whole vault; each gets a sequence number, increasing across
// processes, under the vault lock. An entry names accounts by ID and
// says why in provider error codes and HTTP statuses: never a credential,
// never a request or response body, never an error's text.
//
// Readers use a Follower: its first Next returns the entries kept, each
// later one those written since (one stat when nothing changed). The log is an
// observation: a lost or damaged blob costs its entries and nothing else,
// and the next write starts it afresh.
package eventlog
