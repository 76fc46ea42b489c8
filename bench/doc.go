// Package bench measures authvault against what people use instead of it,
// on the same credential record and the same fake provider:
//
//   - BenchmarkStore: reading and writing one account's credential with
//     the vault, with 99designs/keyring's encrypted file backend, with one
//     age-encrypted file per account, and with the plaintext JSON file most
//     tools keep today.
//   - BenchmarkRateLimited: a request that meets a rate-limited account,
//     sent through authvault's transport (which moves on to the next
//     account) and through hashicorp/go-retryablehttp (which waits out
//     Retry-After on the only credential it has).
//   - BenchmarkSuccess: what the transport adds to a request that succeeds
//     at once, against bare net/http.
//   - BenchmarkGateway: a small request through authvault's local gateway
//     (vaultkey serve) against a plain httputil.ReverseProxy with a fixed
//     key; BenchmarkGatewayStream: the time to a stream's first byte
//     through the gateway against straight to the provider, and the memory
//     each of 8 or 64 concurrent streams holds.
//
// The package holds benchmarks and tests only. It is a module of its own so
// that the alternatives it compares with never become dependencies of
// authvault. README.md says how to run it; cmd/benchtable turns the output
// into the table the README shows.
package bench
