// Package migrate brings credentials that other tools already keep on
// disk into an authvault vault.
//
// # Which function to call
//
// A migration is four steps, each its own function, so that a dry run is
// simply the first two:
//
//	found, problems := migrate.Discover(migrate.OSEnv()) // read every source that exists
//	target := migrate.FromVault(v)
//	existing, err := target.Records(ctx, "")
//	plan, err := migrate.NewPlan(existing, found, migrate.Options{})
//	// --dry-run: print plan.Add, plan.Update, plan.Unchanged, plan.Skipped and problems; stop.
//	err = migrate.Apply(ctx, target, plan)            // one all-or-nothing vault commit
//	removed, err := migrate.RemoveSources(plan)       // only with --remove-source
//
// To read one source, or a file at an unusual place, use SourceByName and
// its Discover or ReadFile method; Sources lists them all with their
// default paths. The Parse* functions parse content already in memory.
//
// Code written for one account per provider stores its refreshed tokens
// with SetLegacy.
//
// # Sources
//
// opencode (OpenCode auth.json or OPENCODE_AUTH_CONTENT), claude-code
// (Claude Code .credentials.json), codex (Codex auth.json), gemini-cli
// (Gemini CLI oauth_creds.json), qwen-code (Qwen Code oauth_creds.json)
// and copilot (GitHub Copilot apps.json and hosts.json). Each Parse*
// function documents its format, and how provider ids, namespaces and
// labels are derived. Labels are the account's email or id when the
// source names one, else the source's name; Options.Label and
// Options.Namespace override them.
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
