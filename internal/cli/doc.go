// Package cli holds the pieces the vaultkey command is built from, so that
// every subcommand parses arguments, finds and stores vault keys, reads
// secrets, renders accounts and writes JSON the same way.
//
//   - [Parse] parses a flag.FlagSet accepting flags before and after
//     positional arguments ("--" ends flags); a *[UsageError] marks
//     mistakes on the command line, which vaultkey exits 2 for.
//   - [Keys] finds the vault key (the environment, the OS keyring, the key
//     file, in that order, with the keyring service from
//     AUTHVAULT_KEYRING_SERVICE), opens a vault with it ([Keys.OpenVault]),
//     chooses where a new key goes ([Keys.ChooseStore]) and stores it
//     there ([Keys.StoreKey]).
//   - [ReadSecret] reads an API key or other secret from standard input, or
//     from the terminal without echo; [NewPassphrase] and [Passphrase] get
//     a passphrase from AUTHVAULT_PASSPHRASE or the terminal.
//   - [WriteAccountsTable] and [AccountsJSON] render pool accounts.
//   - [WriteFileAtomic] writes an output file whole or not at all, mode
//     0600; [WriteJSON] writes indented JSON.
//
// Nothing here prints a secret: errors name sources, files and record ids,
// never key material.
package cli
