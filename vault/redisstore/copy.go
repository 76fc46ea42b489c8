package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/authvault/authvault/vault"
)

// The vault's layout (see package vault): the blobs Copy moves, in the
// order it writes them. The header goes last: a store holds a vault once
// its header is there, so an interrupted copy leaves no vault behind.
const (
	headerName       = "vault.json"
	manifestName     = "manifest.avm"
	manifestNextName = "manifest.next.avm"
)

var blobDirs = []string{"records", "state"}

// Copy copies the vault in src to dst blob for blob: sealed bytes under
// the same names, so the copy opens with the same keys and nothing is
// decrypted on the way. It works between any two vault.Store
// implementations: Redis prefixes or servers, Redis and another backend.
//
// It holds the vault lock of both stores meanwhile, so the copy is a
// consistent snapshot. It refuses a dst that already holds a vault
// (vault.ErrExists) and a src that holds none (vault.ErrNoVault). It is
// all or nothing: records, state and manifest are written first and the
// header last, and on failure whatever was written is removed; blobs left
// in dst by an earlier interrupted copy are removed first.
//
// The copy has the vault's id and keys: use one of the two copies from
// then on, since writes to one are not seen by the other.
func Copy(ctx context.Context, src, dst vault.Store) error {
	if sameVault(src, dst) {
		return errors.New("redisstore: copy: source and destination are the same store")
	}
	unlockDst, err := dst.Lock(ctx, "")
	if err != nil {
		return fmt.Errorf("redisstore: copy: destination: %w", err)
	}
	defer unlockDst()
	if _, err := dst.Stamp(headerName); err == nil {
		return fmt.Errorf("redisstore: copy: destination: %w", vault.ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("redisstore: copy: destination: %w", err)
	}
	unlockSrc, err := src.Lock(ctx, "")
	if err != nil {
		return fmt.Errorf("redisstore: copy: source: %w", err)
	}
	defer unlockSrc()

	header, err := src.Read(headerName)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("redisstore: copy: source: %w", vault.ErrNoVault)
	}
	if err != nil {
		return fmt.Errorf("redisstore: copy: source: %w", err)
	}
	var names []string
	for _, d := range blobDirs {
		ns, err := src.List(d)
		if err != nil {
			return fmt.Errorf("redisstore: copy: source: %w", err)
		}
		for _, n := range ns {
			if !strings.HasPrefix(path.Base(n), ".") { // a temporary file of an interrupted write
				names = append(names, n)
			}
		}
	}
	names = append(names, manifestNextName, manifestName)

	if err := clearLeftovers(dst); err != nil {
		return fmt.Errorf("redisstore: copy: clearing an earlier partial copy: %w", err)
	}
	var written []string
	undo := func(err error) error {
		for _, n := range written {
			_ = dst.Remove(n)
		}
		return fmt.Errorf("redisstore: copy: %w", err)
	}
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return undo(err)
		}
		data, err := src.Read(n)
		if errors.Is(err, fs.ErrNotExist) && n == manifestNextName {
			continue // only present during a key rotation
		}
		if err != nil {
			return undo(err)
		}
		if err := dst.Write(n, data); err != nil {
			return undo(err)
		}
		written = append(written, n)
	}
	if err := dst.Write(headerName, header); err != nil {
		return undo(err)
	}
	return nil
}

// clearLeftovers removes the blobs of a store that holds no vault: what an
// interrupted copy or vault.Create left.
func clearLeftovers(s vault.Store) error {
	for _, d := range blobDirs {
		ns, err := s.List(d)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if err := s.Remove(n); err != nil {
				return err
			}
		}
	}
	for _, n := range []string{manifestNextName, manifestName} {
		if err := s.Remove(n); err != nil {
			return err
		}
	}
	return nil
}

// sameVault reports whether a and b are the same store, or two Redis
// stores for the same keys.
func sameVault(a, b vault.Store) bool {
	if equal(a, b) {
		return true
	}
	ra, ok1 := a.(*Store)
	rb, ok2 := b.(*Store)
	return ok1 && ok2 && ra.addr == rb.addr && ra.db == rb.db && ra.prefix == rb.prefix
}

// equal is a == b for stores whose dynamic type may not be comparable.
func equal(a, b vault.Store) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}
