package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// Options adjust the records a migration creates.
type Options struct {
	// Namespace, when set, replaces the namespace of every found record
	// (the --namespace flag).
	Namespace string
	// Label, when set, replaces the label of every found record (the
	// --label flag). It suits one account at a time: accounts given the
	// same ID in one plan are a conflict, and all but the newest are
	// skipped.
	Label string
}

func (o Options) validate() error {
	if o.Namespace == "" && o.Label == "" {
		return nil
	}
	id := records.ID{Provider: "x", Namespace: o.Namespace, Label: o.Label}
	if id.Namespace == "" {
		id.Namespace = "x"
	}
	if id.Label == "" {
		id.Label = "x"
	}
	return id.Validate()
}

// Change is what a plan does with one found credential.
type Change struct {
	// Found is the credential as its source holds it.
	Found Found
	// Record is the record that will hold the credential: the one to
	// write (Add, Update), the one already in the vault (Unchanged), or
	// the one refused (Skipped).
	Record *records.Record
	// Base is the vault record the credential was matched with (Update,
	// and Unchanged when the vault already holds it); nil otherwise.
	Base *records.Record
	// Reason says why, in a few words.
	Reason string
}

// Plan is what a migration will do. Build it with NewPlan, carry it out
// with Apply. A dry run prints it and stops.
type Plan struct {
	// Add lists new accounts.
	Add []Change
	// Update lists vault records that a newer credential replaces.
	Update []Change
	// Unchanged lists credentials the vault already holds, holds in a
	// newer version, or that another found credential of the same
	// account covers.
	Unchanged []Change
	// Skipped lists credentials that will not be imported, and why. Their
	// files are never removed.
	Skipped []Change

	applied bool // set by a successful Apply; RemoveSources requires it
}

// Reasons given in Change.Reason.
const (
	ReasonNew          = "new account"
	ReasonNewer        = "newer than the vault's credential"
	ReasonMeta         = "same credential, new metadata"
	ReasonSame         = "already in the vault"
	ReasonVaultNewer   = "the vault's credential is newer"
	ReasonDuplicateID  = "another account in this migration gets the same id"
	ReasonInvalid      = "invalid record"
	ReasonKindConflict = "the vault holds this id with another kind"
)

// NewPlan reads v's records and decides, for every found credential,
// whether it adds an account, updates one, is already in the vault, or is
// skipped. found is not modified, nor is the vault.
//
// A found credential belongs to the vault record holding the same refresh
// token (or API key, or well-known token), else the one with the same
// account id in its provider and namespace, else the one with its ID. It
// updates that record when it is newer: a later expiry, or — when the
// expiries do not tell — a different credential changed (Found.Modified)
// after the vault record (Updated). Otherwise it is unchanged, so running
// a migration twice adds and updates nothing. Found credentials of one
// account (same provider, namespace and kind, and the same credential or
// account id) are imported once: the newest, under the best label any of
// them has (an email, else an account id).
//
// It fails for invalid Options (an error wrapping records.ErrInvalidID)
// and when the vault cannot be read.
func NewPlan(ctx context.Context, v *vault.Vault, found []Found, opts Options) (*Plan, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("migrate: options: %w", err)
	}
	existing, err := vaultStore{v}.Records(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("migrate: reading the vault: %w", err)
	}
	return newPlan(existing, found, opts)
}

// newPlan is NewPlan on existing, the vault's records in its list order;
// neither they nor found are modified.
func newPlan(existing []*records.Record, found []Found, opts Options) (*Plan, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("migrate: options: %w", err)
	}
	changes := make([]Change, len(found))
	lists := make([]*[]Change, len(found))
	p := &Plan{}

	// The found records as they would be stored, grouped by account.
	var groups []*group
	for i, f := range found {
		if f.Record == nil {
			changes[i], lists[i] = Change{Found: f, Reason: ReasonInvalid}, &p.Skipped
			continue
		}
		r := f.Record.Clone()
		if opts.Namespace != "" {
			r.Namespace = opts.Namespace
		}
		if opts.Label != "" {
			r.Label = opts.Label
		}
		r.Created, r.Updated, r.Generation = time.Time{}, time.Time{}, 0
		if err := r.Validate(); err != nil {
			changes[i], lists[i] = Change{Found: f, Record: r, Reason: ReasonInvalid + ": " + err.Error()}, &p.Skipped
			continue
		}
		m := &member{index: i, found: f, rec: r}
		g := findGroup(groups, r)
		if g == nil {
			g = &group{}
			groups = append(groups, g)
		}
		g.members = append(g.members, m)
		if g.rep == nil || newer(r, f.Modified, g.rep.rec, g.rep.found.Modified) {
			g.rep = m
		}
	}

	// One vault record per group; two groups wanting one record: the
	// newer wins.
	claims := map[records.ID]*group{}
	for _, g := range groups {
		rep := g.rep.rec
		if opts.Label == "" {
			best := g.rep
			for _, m := range g.members {
				if labelRank(m.rec) > labelRank(best.rec) {
					best = m
				}
			}
			rep.Label = best.rec.Label
		}
		for _, m := range g.members {
			for k, v := range m.rec.Meta {
				if _, ok := rep.Meta[k]; !ok {
					if rep.Meta == nil {
						rep.Meta = map[string]string{}
					}
					rep.Meta[k] = v
				}
			}
		}
		g.base = matchExisting(existing, rep)
		target := rep.ID()
		if g.base != nil {
			target = g.base.ID()
			if g.base.Kind != rep.Kind {
				g.skip = ReasonKindConflict
				continue
			}
		}
		if other := claims[target]; other != nil {
			if !newer(rep, g.rep.found.Modified, other.rep.rec, other.rep.found.Modified) {
				g.skip = ReasonDuplicateID
				continue
			}
			other.skip = ReasonDuplicateID
		}
		claims[target] = g
	}

	for _, g := range groups {
		rep := g.rep
		c := Change{Found: rep.found, Record: rep.rec}
		list := &p.Skipped
		switch {
		case g.skip != "":
			c.Reason = g.skip
		case g.base == nil:
			c.Reason, list = ReasonNew, &p.Add
		default:
			base := g.base.Clone()
			merged := merge(base, rep.rec)
			c.Base = base
			switch same := sameCredential(merged, base); {
			case same && metaSubset(rep.rec.Meta, base.Meta):
				c.Record, c.Reason, list = base, ReasonSame, &p.Unchanged
			case same:
				c.Record, c.Reason, list = merged, ReasonMeta, &p.Update
			case newer(rep.rec, rep.found.Modified, base, base.Updated):
				c.Record, c.Reason, list = merged, ReasonNewer, &p.Update
			default:
				c.Record, c.Reason, list = base, ReasonVaultNewer, &p.Unchanged
			}
		}
		changes[rep.index], lists[rep.index] = c, list
		for _, m := range g.members {
			if m == rep {
				continue
			}
			mc := Change{Found: m.found, Record: c.Record, Reason: c.Reason}
			mlist := list
			if list != &p.Skipped {
				mc.Reason = fmt.Sprintf("same account as %s %s", rep.found.Source, rep.found.Path)
				mlist = &p.Unchanged
			}
			changes[m.index], lists[m.index] = mc, mlist
		}
	}

	for i := range found {
		*lists[i] = append(*lists[i], changes[i])
	}
	return p, nil
}

// group is the found credentials of one account.
type group struct {
	members []*member
	rep     *member         // the newest: the one imported
	base    *records.Record // the vault record it belongs to, if any
	skip    string          // why the group is skipped, if it is
}

type member struct {
	index int
	found Found
	rec   *records.Record
}

func findGroup(groups []*group, r *records.Record) *group {
	for _, g := range groups {
		for _, m := range g.members {
			if sameAccount(m.rec, r) {
				return g
			}
		}
	}
	return nil
}
