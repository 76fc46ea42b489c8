package pool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// Store is what the pool needs from a vault. *vault.Vault implements it;
// tests and other backends may bring their own.
type Store interface {
	// List returns the accounts of the filter's provider and namespace.
	List(ctx context.Context, f vault.Filter) ([]vault.Entry, error)
	// Get returns a copy of one record, vault.ErrNotFound if it is gone.
	Get(ctx context.Context, id records.ID) (*records.Record, error)
	// GetLatest returns a record as last committed by any process.
	GetLatest(ctx context.Context, id records.ID) (*records.Record, error)
	// Update changes one record under the vault's lock: the operator's
	// decisions (position, disabled) and refreshed tokens.
	Update(ctx context.Context, id records.ID, fn func(*records.Record) error) (*records.Record, error)
	// LockRecord takes the per-record lock every process shares, held
	// across a token refresh.
	LockRecord(ctx context.Context, id records.ID) (unlock func(), err error)
	// ReadState returns the named state blob and its stamp:
	// vault.ErrNotFound when there is none, vault.ErrTampered when it
	// fails authentication.
	ReadState(ctx context.Context, name string) ([]byte, vault.StateStamp, error)
	// StateChanged reports, cheaply, whether the blob differs from the
	// version since stamps.
	StateChanged(name string, since vault.StateStamp) bool
	// UpdateState replaces the blob with fn's result under the vault's
	// cross-process lock; old is the blob as it is on disk then.
	UpdateState(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) (vault.StateStamp, error)
}

var _ Store = (*vault.Vault)(nil)

// Key names a pool: the provider and namespace whose accounts it holds.
type Key struct {
	Provider  string
	Namespace string
}

// String returns provider/namespace.
func (k Key) String() string { return k.Provider + "/" + k.Namespace }

// KeyOf returns the key of the pool an account belongs to.
func KeyOf(id records.ID) Key { return Key{Provider: id.Provider, Namespace: id.Namespace} }

func (k Key) validate() error {
	if err := (records.ID{Provider: k.Provider, Namespace: k.Namespace, Label: "x"}).Validate(); err != nil {
		return fmt.Errorf("pool key %q: %w", k.String(), err)
	}
	return nil
}

// stateName returns the name of the vault state blob holding the pool
// state for k: "pool." and the first 8 bytes of the SHA-256 of
// "provider/namespace" in hex. A digest stays a valid blob name whatever
// characters the namespace holds and reveals neither on disk.
func stateName(k Key) string {
	sum := sha256.Sum256([]byte(k.Provider + "/" + k.Namespace))
	return "pool." + hex.EncodeToString(sum[:8])
}
