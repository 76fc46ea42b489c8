package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/authvault/authvault/vault"
	// vaultkey takes a redis:// or rediss:// URL wherever it takes a vault
	// directory: the Redis store registers those schemes when imported.
	_ "github.com/authvault/authvault/vault/redisstore"
)

// A vault is named by a directory, or by the URL of a store whose package
// vaultkey imports: a Redis URL (redis://[user:password@]host:port/db?prefix=P,
// or rediss:// for TLS) for a vault that replicas on several machines
// share. Every command that opens a vault takes either; messages name a
// URL without its password.

// displayName returns s for messages: a directory as it is, a URL
// without its password.
func displayName(s string) string {
	if !vault.IsURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(malformed store URL)"
	}
	if u.User != nil {
		if u.User.Username() == "" {
			u.User = nil
		} else {
			u.User = url.User(u.User.Username())
		}
	}
	return u.String()
}

// location is where an existing vault is: the name to open it under, its
// id, and the options that select its store.
type location struct {
	name string
	id   string
	opts []vault.Option
	// close releases the store while no vault owns it.
	close func()
}

// locate finds the vault in dir, a directory or a Redis URL, without
// opening it. A place without a vault is vault.ErrNoVault.
func locate(ctx context.Context, dir string) (*location, error) {
	if !vault.IsURL(dir) {
		id, err := vault.ReadID(dir)
		if err != nil {
			return nil, err
		}
		return &location{name: dir, id: id, close: func() {}}, nil
	}
	st, name, err := vault.OpenURL(ctx, dir)
	if err != nil {
		return nil, err
	}
	id, err := vault.StoreID(st)
	if err != nil {
		st.Close()
		if errors.Is(err, vault.ErrNoVault) {
			err = fmt.Errorf("%s: %w", name, err)
		}
		return nil, err
	}
	return &location{
		name:  name,
		id:    id,
		opts:  []vault.Option{vault.WithStore(st)},
		close: func() { st.Close() },
	}, nil
}

// storeURLError refuses to create a vault at a Redis URL: init and import
// make vaults in directories, which vaultkey copy then moves.
func storeURLError(s string) error {
	return fmt.Errorf("%s is a store URL: a new vault is made in a directory, then copied there with: vaultkey copy DIR URL", displayName(s))
}
