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
//	client := anthropic.NewClient(option.WithHTTPClient(hc))
//
// HTTPClient opens the default vault (DefaultDir) with the default key
// chain (AUTHVAULT_KEY, AUTHVAULT_KEY_FILE or AUTHVAULT_KEY_CMD; the OS
// keyring; the key file), the pool of the provider's accounts in the
// "default" namespace, and the provider's registered adapter. Open does the
// same and returns the parts, to close them or to read the pool's state;
// NewHTTPClient takes the parts explicitly.
//
// Accounts are added and managed with the vaultkey command. The packages
// underneath: records (the credential and its encoding), vault (encrypted
// storage), keysource (the vault key), pool (account selection and
// cooldowns), adapters (provider specifics), transport (the rotation).
package authvault
