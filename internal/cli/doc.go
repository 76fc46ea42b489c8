// Package cli holds the pieces the vaultkey command is built from, so that
// every subcommand parses arguments, finds and stores vault keys, reads
// secrets, renders accounts and writes JSON the same way.
//
//   - [Parse] parses a flag.FlagSet accepting flags before and after
//     positional arguments ("--" ends flags); a *[UsageError] marks
//     mistakes on the command line, which vaultkey exits 2 for.
//   - [Keys] opens a vault with the key keysource.Default finds for it
//     ([Keys.OpenVault], which also says where the key came from), chooses
//     where a new key goes ([Keys.ChooseStore]) and stores it there
//     ([Keys.StoreKey]). Directories and store URLs are told apart and
//     opened as the library does (vault.IsURL, vault.OpenURL).
//   - [ReadSecret] reads an API key or other secret from standard input, or
//     from the terminal without echo; [NewPassphrase] and [Passphrase] get
//     a passphrase from AUTHVAULT_PASSPHRASE or the terminal.
//   - [WriteAccountsTable] and [AccountsJSON] render pool accounts.
//   - [WriteFileAtomic] writes an output file whole or not at all, mode
//     0600; [WriteJSON] writes indented JSON.
//
// Formats others may read live in public packages (the backup file in
// package backup), not here. Nothing here prints a secret: errors name sources, files and record ids,
// never key material.
package cli
