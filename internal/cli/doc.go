// Package cli holds the argument parsing and output the vaultkey command
// is built from, so that every subcommand parses arguments, renders
// accounts and writes JSON the same way. Finding, opening and keying
// vaults, reading secrets and passphrases, and writing files are the
// command's own business, done with the library's public packages
// (keysource, vault, backup).
//
//   - [Parse] parses a flag.FlagSet accepting flags before and after
//     positional arguments ("--" ends flags); a *[UsageError] marks
//     mistakes on the command line, which vaultkey exits 2 for.
//   - [WriteAccountsTable] and [AccountsJSON] render pool accounts.
//   - [WriteJSON] writes indented JSON.
//
// Formats others may read live in public packages (the backup file in
// package backup), not here. Nothing here prints a secret: errors name
// sources, files and record ids, never key material.
package cli
