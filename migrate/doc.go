// Package migrate brings credentials that other tools already keep on
// disk into an authvault vault.
//
// # Which function to call
//
// A migration is four steps, each its own function, so that a dry run is
// simply the first two:
//
//	found, problems := migrate.Discover(migrate.OSEnv())    // read every source that exists
//	plan, err := migrate.NewPlan(ctx, v, found, migrate.Options{}) // v: the open *vault.Vault
//	// --dry-run: print plan.Add, plan.Update, plan.Unchanged, plan.Skipped and problems; stop.
//	err = migrate.Apply(ctx, v, plan)                       // one all-or-nothing vault commit
//	removed, err := migrate.RemoveSources(plan)             // only with --remove-source
//
// To read one source, pass it to Discover (SourceByName finds it), or
// read a file at an unusual place with its ReadFile method; its Parse
// method parses content already in memory. Sources lists them all with
// their default paths.
//
// Code written for one account per provider stores its refreshed tokens
// with SetLegacy.
//
// # Sources
//
// Labels are the account's email or id when the source names one, else the
// source's name; Options.Label and Options.Namespace override them.
//
// opencode reads OpenCode's auth.json, or the content of
// OPENCODE_AUTH_CONTENT when that is set: an object keyed by provider id
// whose values are
//
//	{"type": "oauth", "refresh", "access", "expires": <ms>, "accountId"?, "enterpriseUrl"?}
//	{"type": "api", "key", "metadata"?: {string: string}}
//	{"type": "wellknown", "key": <env variable name>, "token"}
//
// Keys lose their trailing slashes, as OpenCode's own reader strips them.
// "github-copilot" and "github-copilot-enterprise" become "copilot", in
// the namespace of the enterpriseUrl's host when there is one (Refresh is
// the GitHub token; Access and Expiry are kept only when they hold a
// Copilot token distinct from it); any other key that is a valid authvault
// provider id (lower-case [a-z0-9._-]) is kept. A well-known entry keyed by
// a URL gets the provider id of the URL's host (its lower-cased host name,
// with "-<port>" appended when it names a port) and WellKnown.Key = the
// URL; its "key" field, the variable OpenCode exports the token in, goes to
// Meta "env". Labels are the entry's accountId, else "opencode"; API
// metadata becomes Meta. Entries that fail to decode, OpenCode drops
// silently; here each is reported by its key and skipped, and the rest are
// imported.
//
// claude-code reads Claude Code's ~/.claude/.credentials.json:
//
//	{"claudeAiOauth": {"accessToken": …, "refreshToken": …, "expiresAt": <ms>,
//	                   "scopes": […], "subscriptionType": …, …}}
//
// into one anthropic OAuth record with Meta "plan" = subscriptionType.
// accessToken and refreshToken are required. The file names no account, so
// the label is "claude-code".
//
// codex reads Codex's $CODEX_HOME/auth.json:
//
//	{"auth_mode": …, "OPENAI_API_KEY": <string or null>,
//	 "tokens": {"id_token", "access_token", "refresh_token", "account_id"} or null,
//	 "last_refresh": <RFC 3339>}
//
// tokens give an openai OAuth record; the id token's payload supplies the
// label ("email" claim), the account id when tokens.account_id is absent,
// and Meta "email" and "plan" (claim "https://api.openai.com/auth":
// chatgpt_account_id, chatgpt_plan_type). The expiry is the access token's
// "exp" claim when it is a JWT. OPENAI_API_KEY gives an openai API record,
// labelled like the OAuth one plus "-api" when both are present.
// last_refresh becomes Found.Modified.
//
// gemini-cli reads Gemini CLI's ~/.gemini/oauth_creds.json:
//
//	{"access_token", "refresh_token", "scope", "token_type", "id_token", "expiry_date": <ms>}
//
// into one google OAuth record. access_token and refresh_token are
// required. The id token's payload gives the label and Meta "email"
// ("email" claim) and the account id ("sub"); without one the label is
// "gemini-cli". scope is split on spaces.
//
// qwen-code reads Qwen Code's ~/.qwen/oauth_creds.json:
//
//	{"access_token", "refresh_token", "token_type", "resource_url", "expiry_date": <ms>}
//
// into one qwen OAuth record labelled "qwen-code" (the file names no
// account), with Meta "resource_url": the host (or https URL) of the
// account's API, which the adapter sends requests to. access_token and
// refresh_token are required.
//
// copilot reads GitHub Copilot's ~/.config/github-copilot/apps.json and
// hosts.json (one format covers both):
//
//	hosts.json: {"github.com": {"user": …, "oauth_token": …}}
//	apps.json:  {"github.com:Iv1.xxx": {"user": …, "oauth_token": …, "githubAppId": "Iv1.xxx"}}
//
// Each entry gives a copilot OAuth record whose Refresh is the GitHub token
// (the copilot adapter exchanges it for short-lived Copilot tokens, so
// Access is empty and Expiry zero). The namespace is the host: "default"
// for github.com, the host name for GitHub Enterprise. The label and
// account id are the GitHub user, else "copilot"; ClientID is githubAppId.
// Bad entries are reported by their key and skipped.
//
// # Guarantees
//
// Parsers are bounded and tolerant of what other tools add: a file larger
// than MaxFileSize is refused after reading one byte past the cap (a
// symlink to /dev/zero fails at once), invalid UTF-8, trailing data and
// JSON nested deeper than 16 levels are refused before any value is built,
// and every field read is type-checked. The JSON itself is read with
// encoding/json: fields a source adds that are not documented here are
// ignored, and of duplicate members the last counts, as in the JavaScript
// that writes most of these files. Tokens must be printable ASCII, so none
// can split an HTTP header. A Problem names the file and the
// JSON path of what is wrong ("tokens.refresh_token: want string, got
// number") and never a value: no token can reach an error message or a
// log line through this package. Tokens are kept as records.Secret.
//
// Migrations are idempotent: NewPlan matches each found credential with
// the vault record holding the same refresh token (or key), else the same
// account id, else the same ID, and updates that record only when the
// found credential is newer. Running a migration twice changes nothing.
//
// Apply commits every record of one run at once, and checks inside the
// commit that the vault has not changed since the plan was made.
// RemoveSources refuses to run before Apply succeeded, and keeps any file
// that had a problem or a skipped entry or changed after it was read.
// Sources are never modified otherwise.
//
// JWTs (id tokens, Codex access tokens) are decoded without verifying
// their signatures: their claims only name and date the account.
package migrate
