// Package usage keeps what the local gateway (vaultkey serve) observed
// about each account and each gateway client: requests, statuses, input
// and output tokens, and the last rate-limit headers an account's
// provider sent. It is kept in a sealed state blob of the vault
// (StateName), so it survives restarts and is shared by every gateway
// process on the vault, each adding its own counts.
//
// Read it with Read:
//
//	u, err := usage.Read(ctx, v) // v is a *vault.Vault
//	acct := u.Accounts[id.String()]
//	fmt.Println(acct.Requests, acct.InputTokens, acct.OutputTokens)
//	fmt.Println(acct.RateLimit.Remaining()) // "requests 59/60, tokens 39k/40k"
//
// A gateway records with a Recorder, which keeps counts in memory and
// adds them to the blob on Flush. Usage is an observation: a lost or
// damaged blob forgets the counts and nothing else. It never holds a
// credential, a request or a response body.
package usage
