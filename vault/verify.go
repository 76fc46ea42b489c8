package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/authvault/authvault/records"
)

// Report is what Verify found besides problems.
type Report struct {
	Records int // records checked
	// Orphans are files no committed manifest names: writes a crash
	// interrupted, or leftovers of a key rotation. Sweep removes them.
	Orphans int
}

// Verify reads every record the manifest names straight from storage and
// checks it: present, authentic, bound to its name, at the generation the
// manifest says, with safe permissions. It also looks for record files
// newer than the manifest, the mark of a rolled-back manifest. Every
// problem is reported at once, in a *VerifyError; records that are fine
// are not affected by a problem elsewhere.
func (v *Vault) Verify(ctx context.Context) (*Report, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	v.mu.Lock()
	err := v.loadHeaderLocked()
	var keys *records.Keys
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
	files, err := v.store.List(recordsDir)
	if err != nil {
		problems = append(problems, err)
	}
	for _, f := range files {
		base, gen, ok := parseRecordFile(f)
		if !ok {
			continue // a temporary file of an interrupted write
		}
		if want, known := bases[base]; known && want == gen {
			continue
		}
		if gen > man.Generation+1 {
			problems = append(problems, fmt.Errorf("a record file of generation %d exists but the manifest is at %d: %w", gen, man.Generation, ErrRollback))
			continue
		}
		rep.Orphans++
	}
	if len(problems) > 0 {
		return rep, &VerifyError{Problems: problems}
	}
	return rep, nil
}

// Sweep removes, under the vault lock, record files that no committed
// manifest names and temporary files left by interrupted writes. It
// refuses to run when Verify would report a rolled-back manifest, since
// the newer files are then the evidence. It returns the number of files
// removed.
func (v *Vault) Sweep(ctx context.Context) (int, error) {
	removed := 0
	err := v.Batch(ctx, func(b *Batch) error {
		files, err := v.store.List(recordsDir)
		if err != nil {
			return err
		}
		bases := make(map[string]uint64, len(b.man.Entries))
		for id, e := range b.man.Entries {
			bases[recordBase(b.keys, id)] = e.Generation
		}
		var drop []string
		for _, f := range files {
			base, gen, ok := parseRecordFile(f)
			if !ok {
				if strings.HasPrefix(f[strings.LastIndexByte(f, '/')+1:], ".") {
					drop = append(drop, f)
				}
				continue
			}
			if want, known := bases[base]; known && want == gen {
				continue
			}
			if gen > b.man.Generation+1 {
				return fmt.Errorf("sweep: %w (record file newer than the manifest)", ErrRollback)
			}
			drop = append(drop, f)
		}
		for _, f := range drop {
			if err := v.store.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removed++
		}
		return nil
	})
	return removed, err
}
