package eventlog

import (
	"context"
	"errors"

	"github.com/authvault/authvault/vault"
)

func read(ctx context.Context, store *vault.Vault) ([]Entry, vault.StateStamp, error) {
	b, st, err := store.ReadState(ctx, StateName)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, st, nil
	}
	if err != nil {
		return nil, st, err
	}
	d, err := decode(b)
	if err != nil {
		return nil, st, err
	}
	return d.Entries, st, nil
}

// Follower returns the entries written to a log since its last call.
type Follower struct {
	store   *vault.Vault
	stamp   vault.StateStamp
	seq     uint64
	started bool
}

// NewFollower returns a follower of v's event log whose first Next
// returns every entry kept: NewFollower(v).Next(ctx) reads the whole log.
func NewFollower(v *vault.Vault) *Follower { return &Follower{store: v} }

// Next returns the entries written since the last call, oldest first:
// none when there is no log yet. When the log has not changed it costs
// one stat. A log that fails authentication is vault.ErrTampered; one
// that does not parse, ErrCorrupt. Entries dropped from
// the log before Next saw them are not returned.
func (f *Follower) Next(ctx context.Context) ([]Entry, error) {
	if f.started && !f.store.StateChanged(StateName, f.stamp) {
		return nil, nil
	}
	es, st, err := read(ctx, f.store)
	if err != nil {
		return nil, err
	}
	f.started, f.stamp = true, st
	i := 0
	for i < len(es) && es[i].Seq <= f.seq {
		i++
	}
	if len(es) > 0 && es[len(es)-1].Seq < f.seq {
		// The log was started afresh (it was lost or damaged).
		i = 0
	}
	es = es[i:]
	if len(es) > 0 {
		f.seq = es[len(es)-1].Seq
	}
	return es, nil
}
