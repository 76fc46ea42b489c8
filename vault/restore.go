package vault

import "github.com/authvault/authvault/records"

// Restore stages r like Put, but keeps its Created and Updated times
// instead of stamping the batch's: a record restored from a backup must not
// look newer than it is, or a later merge that keeps the most recently
// updated copy would prefer it over a record changed since. A zero Created
// or Updated is set as Put sets it. The generation is the batch's, as for
// every write.
func (b *Batch) Restore(r *records.Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	c := r.Clone()
	now := b.v.opts.now().UTC()
	if c.Created.IsZero() {
		c.Created = now
	}
	if c.Updated.IsZero() {
		c.Updated = now
	}
	c.Created, c.Updated = c.Created.UTC(), c.Updated.UTC()
	c.Generation = b.gen
	if _, err := records.Marshal(c); err != nil {
		return err
	}
	delete(b.dels, c.ID())
	b.puts[c.ID()] = c
	return nil
}
