// Package keysource finds the vault key: the age identity that unlocks an
// authvault vault.
//
// For most uses, call [Default] with the vault's name and resolve it:
//
//	ids, from, err := keysource.Default(vaultName, nil).Resolve(ctx)
//
// and pass ids to age.Decrypt. Default looks, in order, in the environment
// ([Env]: AUTHVAULT_KEY, AUTHVAULT_KEY_FILE or AUTHVAULT_KEY_CMD), in the OS
// keyring ([Keyring]: macOS Keychain, Windows Credential Manager, Secret
// Service on Linux), and in the key file under the user config directory
// ([File]). Headless servers and CI use the environment. When no source has a
// key the error is a *[NoKeyError] that names each source and why it had
// none; print it as is.
//
// To create a key, as vaultkey init does, call [GenerateIdentity] and hand the
// encoded identity to a [Store] (a [Keyring] or a [File]), after checking with
// [Store.Has] that it holds no key yet: a store never overwrites a key.
//
// # Keys
//
// A vault key is an age identity: post-quantum (AGE-SECRET-KEY-PQ-1…, the
// default for new keys), X25519 (AGE-SECRET-KEY-1…), or an age plugin identity
// (AGE-PLUGIN-…, such as a YubiKey) whose plugin binary is on $PATH. Every
// source accepts the age identity-file format, parsed by [ParseIdentities]:
// one identity per line, blank lines and "#" comments ignored.
//
// # Errors
//
// A [Source] says it has no key with a *[NotFoundError], that it could not
// look with an *[UnavailableError]; [Chain] passes over both. Any other error
// means a key is there but cannot be used (malformed, wrong passphrase
// [ErrIncorrectPassphrase], a failing key command, a key file others can
// read [ErrInsecureFile]), and the chain stops there rather than fall back to
// a different key.
//
// Errors name sources, paths and reasons, never key material: identities and
// passphrases are kept out of every error string, and a key command's
// standard error is not shown if it might contain a key. Buffers this package
// fills with key material are zeroed once parsed, as far as Go allows:
// strings (environment values, keyring answers, what the age parsers take)
// cannot be.
//
// # Sources of your own
//
// [Source] and [Store] are small interfaces; a Chain can mix the sources of
// this package with others (a secrets manager, a KMS).
package keysource
