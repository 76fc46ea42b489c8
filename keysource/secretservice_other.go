//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keysource

// Without a Secret Service backend there is no session bus to check.

func checkSessionBus() error { return nil }

func noSecretService(error) string { return "" }
