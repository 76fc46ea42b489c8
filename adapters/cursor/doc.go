// Package cursor is the adapter for Cursor user API keys: the keys Cursor
// documents for its CLI in automation (the CURSOR_API_KEY environment
// variable, created under Cursor Dashboard → Integrations) and accepted by
// its public REST APIs at https://api.cursor.com.
//
// Importing the package registers New() for provider "cursor".
// Accounts are API-key records; Authorize sends the key as
// "Authorization: Bearer <key>" (or, with WithBasicAuth, as the HTTP Basic
// user name with an empty password, the form Cursor's API overview shows).
// Keys cannot be refreshed: Refresh returns adapters.ErrNotRefreshable.
//
// # Which function to call
//
// To add an account, Login checks a key against the documented
// GET /v1/me endpoint and returns its record, with the key's name and
// owner e-mail in Meta; NewRecord builds the same record without a network
// call (for example in CI, from CURSOR_API_KEY).
//
// # Out of scope
//
// Only documented credentials are handled. Session tokens lifted from the
// editor's local state database, the checksummed headers the editor sends,
// and the private endpoints behind them are reverse-engineered; authvault
// does not read, compute or imitate them.
package cursor
