package vault

import (
	"context"
	"sort"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/records"
)

// RepairChange is one manifest entry that Repair changes.
type RepairChange struct {
	ID records.ID
	// From is the generation the manifest names, 0 when it does not list
	// the record; To the newest authentic generation found, 0 when there
	// is none (the entry is dropped).
	From, To uint64
}

// Repair rebuilds the manifest from the newest authentic version of each
// record in storage, under the vault lock, and returns what it changes
// (nothing when the manifest already names the newest versions). With
// dryRun it only reports.
//
// It is the way out of ErrRollback: when an older manifest was put back,
// the newer record files are still there (the vault writes nothing and
// sweeps nothing meanwhile), and Repair makes the manifest name them
// again. Look at the report first: a record deleted after the manifest was
// copied may come back when a file of it was left behind, and a record
// whose every file is gone is dropped. The new manifest is a new
// generation, above every record file's, so it is accepted by processes
// that saw the rolled-back one.
func (v *Vault) Repair(ctx context.Context, dryRun bool) ([]RepairChange, error) {
	var changes []RepairChange
	err := v.locked(ctx, func(keys *envelope.Keys, man *manifest, base Stamp) error {
		files, err := v.store.List(recordsDir)
		if err != nil {
			return err
		}
		newest := map[records.ID]*records.Record{}
		top := man.Generation
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			b, gen, ok := parseRecordFile(f)
			if !ok {
				continue
			}
			r, err := readRecordFile(v.store, keys, f, b, gen)
			if err != nil {
				continue // not authentic: debris, not a version
			}
			top = max(top, gen)
			if cur := newest[r.ID()]; cur == nil || cur.Generation < r.Generation {
				newest[r.ID()] = r
			}
		}
		next := &manifest{Generation: top + 1, Entries: map[records.ID]*entry{}}
		for id, r := range newest {
			next.Entries[id] = &entry{Kind: r.Kind, Generation: r.Generation, Updated: r.Updated}
			if e := man.Entries[id]; e == nil || e.Generation != r.Generation {
				changes = append(changes, RepairChange{ID: id, From: genOf(e), To: r.Generation})
			}
		}
		for id, e := range man.Entries {
			if newest[id] == nil {
				changes = append(changes, RepairChange{ID: id, From: e.Generation})
			}
		}
		sort.Slice(changes, func(i, j int) bool { return idLess(changes[i].ID, changes[j].ID) })
		if dryRun || len(changes) == 0 {
			return nil
		}
		if err := commitManifest(v.store, keys, next, base); err != nil {
			return err
		}
		st, err := v.store.Stamp(manifestName)
		v.mu.Lock()
		defer v.mu.Unlock()
		if v.keys == keys {
			v.highWater = max(v.highWater, next.Generation)
			if err == nil {
				v.setManifestLocked(next, st)
			} else {
				v.man = nil // read it again next time
			}
		}
		return nil
	})
	return changes, err
}

func genOf(e *entry) uint64 {
	if e == nil {
		return 0
	}
	return e.Generation
}
