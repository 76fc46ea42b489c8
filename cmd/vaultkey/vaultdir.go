package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authvault/authvault/vault"
)

// dirState says what a vault directory holds.
type dirState int

// The states of a vault directory.
const (
	// dirMissing: the directory does not exist.
	dirMissing dirState = iota
	// dirEmpty: the directory exists and is empty.
	dirEmpty
	// dirVault: the directory holds a vault.
	dirVault
	// dirOther: the directory holds something that is not a vault.
	dirOther
)

// inspectDir says what dir holds, and the vault id when it is a vault.
// A Redis URL is an error: vaults are made in directories.
func inspectDir(dir string) (dirState, string, error) {
	if vault.IsURL(dir) {
		return dirOther, "", storeURLError(dir)
	}
	id, err := vault.ReadID(dir)
	if err == nil {
		return dirVault, id, nil
	}
	if !errors.Is(err, vault.ErrNoVault) {
		return dirOther, "", err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dirMissing, "", nil
	case err != nil:
		return dirOther, "", err
	case len(entries) == 0:
		return dirEmpty, "", nil
	}
	return dirOther, "", nil
}

// removeNewVault undoes the creation of a vault in dir, which was missing
// (wasMissing) or empty before: the header goes first, so that what is
// left, if removing the rest fails, is not a vault.
func removeNewVault(dir string, wasMissing bool) error {
	if err := os.Remove(filepath.Join(dir, "vault.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if wasMissing {
		return os.RemoveAll(dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("removing the new vault in %s: %w", dir, errors.Join(errs...))
	}
	return nil
}
