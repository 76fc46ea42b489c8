package vault

import (
	"context"
	"fmt"

	"github.com/authvault/authvault/internal/envelope"
)

// Report is what Verify found besides problems.
type Report struct {
	Records int // records checked
	// Orphans are files no committed manifest names: temporary files and
	// record versions of writes a crash interrupted, or leftovers of a
	// key rotation. Commits remove them once they are a minute old; Sweep
	// at once.
	Orphans int
}

// Verify reads every record the manifest names straight from storage and
// checks it: present, authentic, bound to its name, at the generation the
// manifest says, with safe permissions. It checks the directories as they
// are now (modes, no symbolic links), and looks for authentic record
// files two or more generations newer than the manifest, the mark of a
// rolled-back manifest (ErrRollback: see Repair). Every
// problem is reported at once, in a *VerifyError; records that are fine
// are not affected by a problem elsewhere.
func (v *Vault) Verify(ctx context.Context) (*Report, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	v.mu.Lock()
	err := v.loadHeaderLocked()
	var keys *envelope.Keys
	if err == nil {
		keys = v.keys
	}
	v.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Bypass the stamp: read the manifest as it is now.
	man, _, err := v.readManifest(keys)
	if err != nil {
		return nil, &VerifyError{Problems: []error{err}}
	}
	var problems []error
	v.mu.Lock()
	if man.Generation < v.highWater {
		problems = append(problems, fmt.Errorf("manifest generation %d, already saw %d: %w", man.Generation, v.highWater, ErrRollback))
	}
	v.mu.Unlock()
	rep := &Report{}
	bases := make(map[string]uint64, len(man.Entries))
	for _, id := range man.sortedIDs() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := man.Entries[id]
		bases[recordBase(keys, id)] = e.Generation
		rep.Records++
		r, err := readRecord(v.store, keys, id, e.Generation)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if r.Kind != e.Kind {
			problems = append(problems, &RecordError{ID: id, Err: fmt.Errorf("kind differs from the manifest: %w", ErrCorrupt)})
		}
	}
	if lc, ok := v.store.(layoutChecker); ok {
		if err := lc.checkLayout(); err != nil {
			problems = append(problems, err)
		}
	}
	files, err := v.store.List(recordsDir)
	if err != nil {
		problems = append(problems, err)
	} else {
		orphans, newer := classify(v.store, keys, man, files)
		if err := rollbackError(man, newer); err != nil {
			problems = append(problems, err)
		}
		debris, err := debrisFiles(v.store, files, orphans)
		if err != nil {
			problems = append(problems, err)
		}
		rep.Orphans = len(debris) + len(newer)
	}
	if len(problems) > 0 {
		return rep, &VerifyError{Problems: problems}
	}
	return rep, nil
}
