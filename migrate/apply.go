package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// store is the vault a migration reads and writes: vaultStore for a
// *vault.Vault, an in-memory one in tests.
type store interface {
	// Records returns the records of provider ("" for all), in the
	// vault's list order.
	Records(ctx context.Context, provider string) ([]*records.Record, error)
	// Commit runs fn as one all-or-nothing change: every Put that fn
	// makes is committed together when fn returns nil, and none is when
	// fn or the commit fails.
	Commit(ctx context.Context, fn func(txn) error) error
}

// txn is the view of a vault inside store.Commit.
type txn interface {
	// Records returns the records of provider ("" for all) as the change
	// sees them, in the vault's list order.
	Records(provider string) ([]*records.Record, error)
	// Put creates or replaces the record with r's ID.
	Put(r *records.Record) error
}

// ErrConflict means the vault changed between NewPlan and Apply in a way
// that touches the plan: an account to add appeared, a record to update
// changed, or a record the plan counts on was deleted. Plan again.
var ErrConflict = errors.New("migrate: the vault changed since the plan was made")

// Apply writes the plan's Add and Update records to v in one commit:
// either all of them land or none does. Inside the commit it checks that
// the vault still is as the plan saw it (ErrConflict otherwise), so a
// concurrent change is never overwritten. A plan with nothing to write is
// only checked. After Apply succeeds, RemoveSources may remove the plan's
// source files.
func Apply(ctx context.Context, v *vault.Vault, plan *Plan) error {
	return apply(ctx, vaultStore{v}, plan)
}

func apply(ctx context.Context, target store, plan *Plan) error {
	if plan == nil {
		return errors.New("migrate: nil plan")
	}
	if len(plan.Add) == 0 && len(plan.Update) == 0 {
		current, err := target.Records(ctx, "")
		if err != nil {
			return fmt.Errorf("migrate: reading the vault: %w", err)
		}
		if err := plan.check(current); err != nil {
			return err
		}
		plan.applied = true
		return nil
	}
	err := target.Commit(ctx, func(tx txn) error {
		current, err := tx.Records("")
		if err != nil {
			return fmt.Errorf("migrate: reading the vault: %w", err)
		}
		if err := plan.check(current); err != nil {
			return err
		}
		for _, list := range [][]Change{plan.Add, plan.Update} {
			for _, c := range list {
				if err := tx.Put(c.Record.Clone()); err != nil {
					return fmt.Errorf("migrate: writing %s: %w", c.Record.ID(), err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	plan.applied = true
	return nil
}

// check compares the vault's current records with what the plan saw.
func (p *Plan) check(current []*records.Record) error {
	byID := make(map[records.ID]*records.Record, len(current))
	for _, r := range current {
		byID[r.ID()] = r
	}
	for _, c := range p.Add {
		if byID[c.Record.ID()] != nil {
			return fmt.Errorf("%w: %s now exists", ErrConflict, c.Record.ID())
		}
	}
	for _, c := range p.Update {
		cur := byID[c.Base.ID()]
		if cur == nil || cur.Generation != c.Base.Generation {
			return fmt.Errorf("%w: %s changed", ErrConflict, c.Base.ID())
		}
	}
	for _, c := range p.Unchanged {
		if c.Base != nil && byID[c.Base.ID()] == nil {
			return fmt.Errorf("%w: %s was removed", ErrConflict, c.Base.ID())
		}
	}
	return nil
}
