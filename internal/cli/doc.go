// Package cli holds the argument parsing and output the vaultkey command
// is built from, so that every subcommand parses arguments, reports
// mistakes and writes JSON the same way. Finding, opening and keying
// vaults, reading secrets and passphrases, rendering accounts and writing
// files are the command's own business, done with the library's public
// packages (keysource, vault, pool, backup).
//
//   - [Parse] parses a flag.FlagSet accepting flags before and after
//     positional arguments ("--" ends flags); an [ErrUsage] marks
//     mistakes on the command line, which vaultkey exits 2 for.
//   - [WriteJSON] writes indented JSON.
//
// Formats others may read live in public packages (the backup file in
// package backup), not here. Nothing here prints a secret: errors name
// sources, files and record ids, never key material.
package cli
