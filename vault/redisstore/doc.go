// Package redisstore keeps a vault in Redis, so that several replicas of a
// service (on several machines) share one vault and one account pool: a
// token refreshed by one replica, or a cooldown reported by one, is seen
// by every other at its next request.
//
// # Use
//
// Open a Store from a URL and give it to the vault with vault.WithStore;
// everything above the vault (pool, transport) works unchanged:
//
//	st, err := redisstore.Open(ctx, "redis://:password@redis.internal:6379/0?prefix=team-a")
//	if err != nil {
//		return err // *redisstore.UnavailableError when the server is out of reach
//	}
//	v, err := vault.Open(ctx, st.String(), identities, vault.WithStore(st))
//	// or vault.Create(ctx, st.String(), recipients, vault.WithStore(st)) the first time
//	defer v.Close() // closes st too
//
// Pass st.String() (the URL without its password) as the vault's "dir":
// it appears in the vault's messages.
//
// Importing the package also registers the redis and rediss URL schemes
// with vault.Register, the database/sql driver pattern: a program that
// takes either a directory or a URL imports it, even only for its side
// effect, and authvault.OpenVault (or vault.OpenURL) opens the URL. A
// program that does not import it links no Redis client.
//
//	import _ "github.com/authvault/authvault/vault/redisstore"
//
// Copy moves a vault from one
// vault.Store to another (one prefix or server to another), all or
// nothing, without decrypting it.
//
// The URL's prefix (default "authvault") names the vault: several vaults
// share one Redis database under different prefixes. Other options in the
// query: lock_ttl (default 10s) and timeout (default 2s), described at
// Open, and the go-redis connection options.
//
// # What Redis sees
//
// Only the vault's sealed blobs, under P:blob:<name>: the header (public
// recipients and the data key wrapped with age), the sealed manifest, and
// one sealed blob per record version and per state blob, under names that
// are HMACs. No plaintext record, record id or data key reaches Redis; a
// copy of the database is worth what a copy of a vault directory is. The
// layout of keys is described at Store.
//
// # Guarantees
//
// Every change is one Lua script: a blob and its directory entry are
// replaced together, never half. Locks are SET NX PX with a random token,
// renewed every third of their TTL while held and released only by their
// holder. Each acquisition takes a fencing number, and every write made
// under the vault lock checks, in the same script, that the lock is still
// held with that token and that no later holder wrote the blob: a writer
// paused past the TTL (a stopped process, a long GC pause, a network
// partition) gets ErrLockLost when it resumes and cannot overwrite a
// newer commit. The vault's manifest commit is moreover a compare-and-set
// on the manifest's version (vault.FencedStore), so two writers can never
// both commit on the same base.
//
// Fencing protects what is written to Redis, not calls elsewhere: the
// per-record lock the transport holds around a token refresh cannot stop
// a process paused past the TTL in the middle of its call to the token
// endpoint. Choose lock_ttl well above the longest pause you expect; a
// running holder renews its locks, so a long refresh needs no long TTL.
//
// Operations fail fast when Redis is down or restarting: within about one
// timeout, retried once, with an *UnavailableError naming the server's
// address (never the password). Nothing is half-written, and operations
// succeed again once the server is back.
//
// The go-redis client logs failed dials through its own logger; a
// program that wants them elsewhere, or nowhere, calls redis.SetLogger.
//
// Durability is the server's: run Redis with appendonly yes (appendfsync
// always for the guarantee of a directory vault, everysec to risk the
// last second), and with maxmemory-policy noeviction, since an evicted
// blob is a lost record. Redis Cluster is not supported (a vault's keys
// must live on one server). Behind a failover address, a write that a
// primary acknowledged but did not replicate before failing is lost, as
// with any asynchronous replication.
package redisstore
