package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
)

// An Opener opens the store that url names, for a URL scheme it was
// registered for. name is what Open and Create are then given as their
// dir: it appears in messages, so it must not contain a password.
type Opener func(ctx context.Context, url string) (st Store, name string, err error)

// ErrUnknownScheme: OpenURL was given a URL whose scheme no imported
// package registered. A program opts into a store by importing its
// package, as it does a database/sql driver.
var ErrUnknownScheme = errors.New("no store registered for this URL scheme")

var (
	schemesMu sync.RWMutex
	schemes   = map[string]Opener{}
)

// Register makes the stores of a URL scheme ("redis") available to
// OpenURL. A store package calls it from its init function, so that
// importing the package is all a program does to accept its URLs:
//
//	import _ "github.com/authvault/authvault/vault/redisstore"
//
// Schemes are case-insensitive. Register panics when open is nil or the
// scheme is already registered, as database/sql.Register does.
func Register(scheme string, open Opener) {
	scheme = strings.ToLower(scheme)
	if open == nil || !validScheme(scheme) {
		panic("vault: Register of scheme " + scheme + " without an opener or with an invalid scheme")
	}
	schemesMu.Lock()
	defer schemesMu.Unlock()
	if _, dup := schemes[scheme]; dup {
		panic("vault: Register called twice for scheme " + scheme)
	}
	schemes[scheme] = open
}

// IsURL reports whether s names a store by URL (scheme://…) rather than
// a directory. Programs that take either, such as a --dir flag, branch on
// it.
func IsURL(s string) bool {
	_, ok := urlScheme(s)
	return ok
}

func urlScheme(s string) (string, bool) {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || !validScheme(scheme) {
		return "", false
	}
	return strings.ToLower(scheme), true
}

// validScheme is RFC 3986's scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ),
// of two characters at least, so that a Windows drive (C://dir) is a
// directory.
func validScheme(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

// OpenURL opens the store that url names through the Opener registered
// for its scheme, and returns it with the name to give Open or Create
// (the URL without its password). An unregistered scheme is an error
// wrapping ErrUnknownScheme. The caller closes the store unless a vault
// opened on it (WithStore) owns it.
func OpenURL(ctx context.Context, url string) (st Store, name string, err error) {
	scheme, ok := urlScheme(url)
	if !ok {
		return nil, "", errors.New("vault: not a URL (scheme://…)")
	}
	schemesMu.RLock()
	open := schemes[scheme]
	schemesMu.RUnlock()
	if open == nil {
		return nil, "", fmt.Errorf("vault: %s:// URLs: %w", scheme, ErrUnknownScheme)
	}
	return open(ctx, url)
}

// StoreID returns the id of the vault in st without opening it, as ReadID
// does for a directory. A store without a vault is ErrNoVault.
func StoreID(st Store) (string, error) {
	data, err := st.Read(headerName)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNoVault
	}
	if err != nil {
		return "", err
	}
	h, err := parseHeader(data)
	if err != nil {
		return "", err
	}
	return h.VaultID, nil
}
