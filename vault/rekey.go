package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"filippo.io/age"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/records"
)

// RekeyStep names a point of a key rotation, for RekeyOptions.Hook.
type RekeyStep string

// The steps of a rotation, in order.
const (
	StepRecordsSealed RekeyStep = "records-sealed" // every record and state blob re-sealed under new names
	StepNextManifest  RekeyStep = "next-manifest"  // manifest.next.avm written under the new key
	StepHeader        RekeyStep = "header"         // vault.json holds the new key: the commit point
	StepManifest      RekeyStep = "manifest"       // manifest.avm replaced
	StepCleaned       RekeyStep = "cleaned"        // old files removed
)

// RekeyOptions tunes Rekey.
type RekeyOptions struct {
	// Identities replaces the identities this Vault uses to re-open the
	// header after the rotation; needed when the old identity is not a
	// recipient any more. Nil keeps the current ones.
	Identities []age.Identity
	// Hook, when set, is called after each step. Crash tests use it to
	// stop the process at every point.
	Hook func(RekeyStep)
}

// AddRecipient adds a key slot: the same data key is wrapped to one more
// recipient (a backup key, a YubiKey). No record is rewritten. A classic
// recipient on a post-quantum vault, or the reverse, is refused (age's
// error) unless AllowClassic is given.
func (v *Vault) AddRecipient(ctx context.Context, r age.Recipient, opts ...AddOption) error {
	var o addOptions
	for _, fn := range opts {
		fn(&o)
	}
	s, err := recipientString(r)
	if err != nil {
		return err
	}
	return v.rewrap(ctx, o.allowClassic, func(cur []string) ([]string, error) {
		if slices.Contains(cur, s) {
			return nil, fmt.Errorf("vault: %s is already a recipient", s)
		}
		return append(slices.Clone(cur), s), nil
	})
}

func (v *Vault) rewrap(ctx context.Context, allowClassic bool, edit func([]string) ([]string, error)) error {
	return v.Batch(ctx, func(b *Batch) error {
		v.mu.Lock()
		h := *v.hdr
		dek := v.dek.b
		v.mu.Unlock()
		next, err := edit(h.Recipients)
		if err != nil {
			return err
		}
		rs, err := parseRecipients(next)
		if err != nil {
			return err
		}
		if allowClassic || Mixed(h.Recipients) {
			rs = unlabeled(rs)
		}
		if h.DataKey, err = wrapDataKey(dek, rs); err != nil {
			return err
		}
		h.Recipients = next
		h.seal(b.keys)
		return v.writeHeader(&h, b.keys, dek)
	})
}

func (v *Vault) writeHeader(h *header, keys *envelope.Keys, dek []byte) error {
	hb, err := h.marshal()
	if err != nil {
		return err
	}
	if err := v.store.Write(headerName, hb); err != nil {
		return err
	}
	st, err := v.store.Stamp(headerName)
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil {
		st = Stamp{} // re-read the header next time
	}
	if v.dek != nil && (len(v.dek.b) == 0 || &dek[0] != &v.dek.b[0]) {
		v.dek.wipe()
	}
	v.hdr, v.hdrStamp, v.keys, v.dek, v.hdrRaw = h, st, keys, &dataKey{b: dek}, hb
	return nil
}

func parseRecipients(ss []string) ([]age.Recipient, error) {
	rs := make([]age.Recipient, 0, len(ss))
	for _, s := range ss {
		r, err := ParseRecipient(s)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// RemoveRecipient removes a key slot and rotates the data key, so that the
// removed identity cannot open what is written from now on. (It can still
// open copies of the vault taken before.)
func (v *Vault) RemoveRecipient(ctx context.Context, recipient string) error {
	cur := v.Recipients()
	i := slices.Index(cur, recipient)
	if i < 0 {
		return fmt.Errorf("vault: %s is not a recipient of this vault", recipient)
	}
	if len(cur) == 1 {
		return errors.New("vault: cannot remove the last recipient")
	}
	rs, err := parseRecipients(slices.Delete(slices.Clone(cur), i, i+1))
	if err != nil {
		return err
	}
	return v.Rekey(ctx, rs, RekeyOptions{})
}

// Rekey rotates the data key: a new one is generated and wrapped to
// recipients, and every record and state blob is re-sealed under it (file
// names change too, since they are keyed). Readers in other processes keep
// working throughout if they hold an identity among recipients.
//
// It is crash-safe: the new files are written beside the old ones, the new
// manifest waits as manifest.next.avm, and replacing vault.json is the
// single commit point. Interrupted before it, the vault opens with the old
// key; after it, with the new one; nothing is lost either way. Leftover
// files are removed by the next Sweep.
func (v *Vault) Rekey(ctx context.Context, recipients []age.Recipient, opts RekeyOptions) error {
	hook := opts.Hook
	if hook == nil {
		hook = func(RekeyStep) {}
	}
	newIDs := opts.Identities
	return v.Batch(ctx, func(b *Batch) error {
		v.mu.Lock()
		h := *v.hdr
		v.mu.Unlock()
		dek := make([]byte, envelope.DataKeySize)
		randRead(dek)
		nkeys, err := envelope.DeriveKeys(dek, h.VaultID)
		if err != nil {
			return err
		}
		nh := header{Format: FormatVersion, VaultID: h.VaultID, Created: h.Created}
		for _, r := range recipients {
			s, err := recipientString(r)
			if err != nil {
				return err
			}
			nh.Recipients = append(nh.Recipients, s)
		}
		wrapTo := recipients
		if Mixed(h.Recipients) { // the operator chose the mix: keep it
			wrapTo = unlabeled(recipients)
		}
		if nh.DataKey, err = wrapDataKey(dek, wrapTo); err != nil {
			return err
		}
		nh.seal(nkeys)

		var old []string
		for _, id := range b.man.sortedIDs() {
			if err := ctx.Err(); err != nil {
				return err
			}
			e := b.man.Entries[id]
			r, err := readRecord(v.store, b.keys, id, e.Generation)
			if err != nil {
				return fmt.Errorf("rekey: %w (run Verify; nothing was changed)", err)
			}
			pt, err := records.Marshal(r)
			if err != nil {
				return err
			}
			nbase := recordBase(nkeys, id)
			blob, err := nkeys.Seal(envelope.BlobRecord, nbase, pt)
			clear(pt)
			if err != nil {
				return err
			}
			if err := v.store.Write(recordFile(nbase, e.Generation), blob); err != nil {
				return err
			}
			old = append(old, recordFile(recordBase(b.keys, id), e.Generation))
		}
		states, err := v.store.List(stateDir)
		if err != nil {
			return err
		}
		for _, f := range states {
			blob, err := v.store.Read(f)
			if err != nil {
				return err
			}
			pt, err := b.keys.Open(envelope.BlobState, f, blob)
			if err != nil {
				continue // a leftover of an earlier rotation, or junk: not ours to carry over
			}
			name, _, err := decodeState(pt)
			if err != nil {
				continue
			}
			nf := stateFile(nkeys, name)
			nblob, err := nkeys.Seal(envelope.BlobState, nf, pt)
			clear(pt)
			if err != nil {
				return err
			}
			if err := v.store.Write(nf, nblob); err != nil {
				return err
			}
			old = append(old, f)
		}
		hook(StepRecordsSealed)

		nman := b.man.clone()
		nman.Generation = b.man.Generation + 1
		if err := writeManifest(v.store, nkeys, manifestNextName, nman); err != nil {
			return err
		}
		hook(StepNextManifest)

		if newIDs != nil {
			v.mu.Lock()
			v.identities = newIDs
			v.mu.Unlock()
		}
		if err := v.writeHeader(&nh, nkeys, dek); err != nil {
			return err
		}
		hook(StepHeader)

		if err := commitManifest(v.store, nkeys, nman, b.base); err != nil {
			return err
		}
		_ = v.store.Remove(manifestNextName)
		hook(StepManifest)

		for _, f := range old {
			_ = v.store.Remove(f)
		}
		hook(StepCleaned)

		st, _ := v.store.Stamp(manifestName)
		v.mu.Lock()
		v.man, v.manStamp, v.keys = nman, st, nkeys
		if nman.Generation > v.highWater {
			v.highWater = nman.Generation
		}
		v.cache = map[records.ID]*records.Record{}
		v.mu.Unlock()
		return nil
	})
}
