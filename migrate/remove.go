package migrate

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
)

// ErrNotApplied is returned by RemoveSources for a plan that Apply has
// not committed.
var ErrNotApplied = errors.New("migrate: the plan has not been applied")

// RemoveSources deletes the source files of an applied plan: the files
// whose credentials the vault now holds. It returns ErrNotApplied unless
// Apply(plan) succeeded, so a failed commit never costs a credential.
//
// A file is kept, and named in the returned error, when:
//   - it had a problem or an entry the plan skipped (deleting it would lose
//     what was not imported);
//   - its content changed since it was read (the tool may have refreshed
//     its token meanwhile);
//   - it was not read from disk by ReadFile or Discover
//     (OPENCODE_AUTH_CONTENT, Parse*).
//
// removed lists the deleted files. Only the CLI's --remove-source should
// call this.
func RemoveSources(plan *Plan) (removed []string, err error) {
	if plan == nil || !plan.applied {
		return nil, ErrNotApplied
	}
	type file struct {
		digest [sha256.Size]byte
		keep   string
	}
	files := map[string]*file{}
	var order []string
	note := func(f Found, skipped bool) {
		if !f.file {
			return
		}
		st := files[f.Path]
		if st == nil {
			st = &file{digest: f.digest}
			files[f.Path] = st
			order = append(order, f.Path)
		}
		switch {
		case st.keep != "":
		case skipped:
			st.keep = "an entry was skipped"
		case !f.complete:
			st.keep = "it has entries that could not be read"
		case f.digest != st.digest:
			st.keep = "it was read twice with different content"
		}
	}
	for _, list := range [][]Change{plan.Add, plan.Update, plan.Unchanged} {
		for _, c := range list {
			note(c.Found, false)
		}
	}
	for _, c := range plan.Skipped {
		note(c.Found, true)
	}
	var errs []error
	for _, path := range order {
		st := files[path]
		if st.keep == "" {
			data, _, rerr := readCapped(path)
			switch {
			case rerr != nil:
				st.keep = "it cannot be read again: " + rerr.Error()
			case sha256.Sum256(data) != st.digest:
				st.keep = "it changed since it was read"
			}
		}
		if st.keep != "" {
			errs = append(errs, fmt.Errorf("migrate: kept %s: %s", path, st.keep))
			continue
		}
		if rerr := os.Remove(path); rerr != nil {
			errs = append(errs, fmt.Errorf("migrate: removing %s: %w", path, unwrapPath(rerr)))
			continue
		}
		removed = append(removed, path)
	}
	return removed, errors.Join(errs...)
}
