// Package authvault is the one-line path to multi-account LLM clients:
// credentials kept encrypted in a vault, several accounts per provider in
// a pool shared by every process on the machine, and an *http.Client that
// moves a request to the next healthy account when one is rate limited
// and refreshes expired tokens exactly once.
//
// Hand the client to any SDK that accepts one:
//
//	hc, err := authvault.HTTPClient(ctx, "anthropic")
//	if err != nil { … }
//	client := anthropic.NewClient(option.WithHTTPClient(hc), option.WithAPIKey(authvault.PlaceholderKey))
//
// anthropic-sdk-go refuses to send without a key of its own; PlaceholderKey
// satisfies it and is replaced by the serving account's credential on every
// request. SDKs that send without one (openai-go) need only the client.
//
// HTTPClient opens the default vault (DefaultDir) with the default key
// chain (AUTHVAULT_KEY, AUTHVAULT_KEY_FILE or AUTHVAULT_KEY_CMD; the OS
// keyring; the key file), the pool of the provider's accounts in the
// "default" namespace, and the provider's registered adapter. Open does the
// same and returns the parts, to close them or to read the pool's state.
// A vault opened with a key chain of the program's own (OpenVault) is
// passed to either with WithVault.
//
// A credential is sent only to the origins bound to its account: the
// provider's documented API, and the account's own base URL (vaultkey
// accounts add-key … --base-url). A test server or a gateway on loopback
// is bound with WithOrigins; anything else fails with a
// *transport.OriginError before a byte is sent. A provider with no
// registered adapter is a custom OpenAI-compatible one, served by the
// generic bearer adapter when its accounts name their base URL or
// WithBaseURL gives one.
//
// The vault may also live in a shared store named by URL, for replicas of
// a service that share one pool: import the store's package for its side
// effect, as with a database/sql driver, and pass the URL to WithDir or
// OpenVault. The root package links no store driver itself.
//
//	import _ "github.com/authvault/authvault/vault/redisstore"
//
//	hc, err := authvault.HTTPClient(ctx, "anthropic", authvault.WithDir("redis://cache:6379/0?prefix=team-a"))
//
// Open and HTTPClient also record the transport's rotations, cooldowns and
// refreshes in the vault's event log (package eventlog), beside any
// observer given with WithTransportOptions, written behind
// the requests; `vaultkey accounts events` and `vaultkey ui` show them.
//
// Accounts are added and managed with the vaultkey command. The packages
// underneath: records (the credential and its encoding), vault (encrypted
// storage), keysource (the vault key), pool (account selection and
// cooldowns), adapters (provider specifics), transport (the rotation),
// eventlog (what the transports did).
package authvault
