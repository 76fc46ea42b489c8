package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/records"
)

// Debris is what interrupted writes leave: temporary files (a process
// killed before its rename) and record files that no manifest names (a
// process killed after writing a record, before committing the manifest
// that names it; a superseded version whose removal was interrupted).
// Every commit collects it, under the vault lock, once it is older than
// debrisAge, so it stays bounded without anyone running Sweep.
//
// A record file newer than the manifest is only debris when it does not
// authenticate. An authentic one is either the write of a process killed
// before its commit (exactly one generation ahead: the next commit
// reuses that generation, and the file becomes an ordinary orphan), or,
// two or more generations ahead, the mark of a manifest put back from an
// older copy: then no commit is made (ErrRollback) and nothing is
// removed, until Repair rebuilds the manifest.

// debrisAge: debris younger than this is left to a later commit. Only a
// writer holding the vault lock writes, so a temporary file seen under
// the lock belongs to a dead process; the margin covers a lock file
// replaced under a live writer.
const debrisAge = time.Minute

// recordFileOf parses a listed record file, "records/<base>.<gen>.avr".
type recordFileOf struct {
	name, base string
	gen        uint64
}

// classify sorts the listed record files against man: orphans (named by
// no entry, and not newer than man or not authentic), and the authentic
// files newer than man.
func classify(store Store, keys *envelope.Keys, man *manifest, files []string) (orphans []string, newer []recordFileOf) {
	live := make(map[string]uint64, len(man.Entries))
	for id, e := range man.Entries {
		live[recordBase(keys, id)] = e.Generation
	}
	for _, f := range files {
		base, gen, ok := parseRecordFile(f)
		if !ok {
			continue // a temporary file, or not the vault's
		}
		if g, known := live[base]; known && g == gen {
			continue
		}
		if gen > man.Generation {
			if _, err := readRecordFile(store, keys, f, base, gen); err == nil {
				newer = append(newer, recordFileOf{name: f, base: base, gen: gen})
				continue
			}
		}
		orphans = append(orphans, f)
	}
	return orphans, newer
}

// readRecordFile reads and authenticates the record file name, whose
// record's id is not known: the envelope is bound to base, and the
// record inside must be the one base names, at generation gen.
func readRecordFile(store Store, keys *envelope.Keys, name, base string, gen uint64) (*records.Record, error) {
	blob, err := store.Read(name)
	if err != nil {
		return nil, err
	}
	pt, err := keys.Open(envelope.BlobRecord, base, blob)
	if err != nil {
		return nil, err
	}
	r, err := records.Unmarshal(pt)
	clear(pt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if recordBase(keys, r.ID()) != base || r.Generation != gen {
		return nil, fmt.Errorf("%s: %w", name, ErrTampered)
	}
	return r, nil
}

// rollbackError is the ErrRollback of authentic record files two or more
// generations newer than the manifest (one ahead is a crash before a
// commit), or nil.
func rollbackError(man *manifest, newer []recordFileOf) error {
	top := uint64(0)
	for _, f := range newer {
		top = max(top, f.gen)
	}
	if top < man.Generation+2 {
		return nil
	}
	return fmt.Errorf("an authentic record file of generation %d exists but the manifest is at %d: the manifest was rolled back; "+
		"nothing is written or removed until Repair (vaultkey repair) rebuilds it: %w", top, man.Generation, ErrRollback)
}

// checkNewer returns the ErrRollback of rollbackError for the listed
// record files.
func checkNewer(store Store, keys *envelope.Keys, man *manifest, files []string) error {
	_, newer := classify(store, keys, man, files)
	return rollbackError(man, newer)
}

// debrisFiles lists the debris: temporary files in the vault directory,
// records/ and state/ (files is the listing of records/), and orphans,
// the orphaned record files that classify found in files.
func debrisFiles(store Store, files, orphans []string) ([]string, error) {
	var out []string
	for _, dir := range []string{"", recordsDir, stateDir} {
		names := files
		if dir != recordsDir {
			var err error
			if names, err = store.List(dir); err != nil {
				return nil, err
			}
		}
		for _, n := range names {
			if _, base := split(n); isTempName(base) {
				out = append(out, n)
			}
		}
	}
	return append(out, orphans...), nil
}

// tidy removes, under the vault lock, the debris (see debrisFiles) at
// least age old (by the vault's clock) and returns how many files it
// removed. Stores that cannot tell a blob's age (a shared store, whose
// writes are fenced) have all of it removed.
func (v *Vault) tidy(files, orphans []string, age time.Duration) (int, error) {
	debris, err := debrisFiles(v.store, files, orphans)
	if err != nil {
		return 0, err
	}
	mt, timed := v.store.(modTimer)
	now := v.opts.now()
	removed := 0
	for _, f := range debris {
		if timed && age > 0 {
			if t, err := mt.modTime(f); err != nil || now.Sub(t) < age {
				continue
			}
		}
		if err := v.store.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// Sweep removes, under the vault lock, all debris of interrupted writes,
// however recent: temporary files anywhere in the vault, and record files
// that no committed manifest names. Commits collect debris older than a
// minute by themselves; Sweep is for an operator who wants it gone now.
// It never removes an authentic record file newer than the manifest, and
// refuses to run (ErrRollback) when such files show that the manifest
// was rolled back. It returns the number of files removed.
func (v *Vault) Sweep(ctx context.Context) (int, error) {
	removed := 0
	err := v.locked(ctx, func(keys *envelope.Keys, man *manifest, _ Stamp) error {
		files, err := v.store.List(recordsDir)
		if err != nil {
			return err
		}
		orphans, newer := classify(v.store, keys, man, files)
		if err := rollbackError(man, newer); err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		removed, err = v.tidy(files, orphans, 0)
		return err
	})
	return removed, err
}
