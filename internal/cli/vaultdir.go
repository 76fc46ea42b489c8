package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authvault/authvault/vault"
)

// DirState says what a vault directory holds.
type DirState int

// The states of a vault directory.
const (
	// DirMissing: the directory does not exist.
	DirMissing DirState = iota
	// DirEmpty: the directory exists and is empty.
	DirEmpty
	// DirVault: the directory holds a vault.
	DirVault
	// DirOther: the directory holds something that is not a vault.
	DirOther
)

// InspectDir says what dir holds, and the vault id when it is a vault.
// A Redis URL is an error: vaults are made in directories.
func InspectDir(dir string) (DirState, string, error) {
	if vault.IsURL(dir) {
		return DirOther, "", storeURLError(dir)
	}
	id, err := vault.ReadID(dir)
	if err == nil {
		return DirVault, id, nil
	}
	if !errors.Is(err, vault.ErrNoVault) {
		return DirOther, "", err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return DirMissing, "", nil
	case err != nil:
		return DirOther, "", err
	case len(entries) == 0:
		return DirEmpty, "", nil
	}
	return DirOther, "", nil
}

// RemoveNewVault undoes the creation of a vault in dir, which was missing
// (wasMissing) or empty before: the header goes first, so that what is
// left, if removing the rest fails, is not a vault.
func RemoveNewVault(dir string, wasMissing bool) error {
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
