package vault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"unicode/utf8"

	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/records"
)

// State blobs are small sealed documents owned by other packages (the
// pool's cooldowns and counters, cached model lists). They live beside the
// records under opaque names, are sealed like records, and have their own
// read-modify-write under the vault lock. They are not in the manifest:
// a rolled-back state blob is not detected (it holds no credentials).

// StateStamp identifies a version of a state blob, for StateChanged.
type StateStamp struct {
	s      Stamp
	exists bool
}

// maxStateName bounds state blob names.
const maxStateName = 255

// MaxStateSize bounds a state blob's plaintext.
const MaxStateSize = 16 << 20

func validStateName(name string) error {
	if name == "" || len(name) > maxStateName || !utf8.ValidString(name) {
		return fmt.Errorf("vault: invalid state name (1 to %d bytes of UTF-8)", maxStateName)
	}
	return nil
}

func stateFile(keys *envelope.Keys, name string) string {
	return stateDir + "/" + keys.FileName("state\x00"+name) + ".avs"
}

// stateFileOf returns the file name of the state blob name under keys,
// remembered: StateChanged runs on every pool Acquire, ReadState and
// UpdateState on every cooldown.
func (v *Vault) stateFileOf(keys *envelope.Keys, name string) string {
	v.stateNamesMu.Lock()
	defer v.stateNamesMu.Unlock()
	if v.stateNamesKeys != keys {
		v.stateNames, v.stateNamesKeys = map[string]string{}, keys
	}
	f, ok := v.stateNames[name]
	if !ok {
		f = stateFile(keys, name)
		v.stateNames[name] = f
	}
	return f
}

// The sealed plaintext of a state blob is its name (so a key rotation can
// re-derive its file name) followed by the owner's bytes.
func encodeState(name string, data []byte) []byte {
	b := binary.AppendUvarint(make([]byte, 0, len(name)+len(data)+4), uint64(len(name)))
	b = append(b, name...)
	return append(b, data...)
}

func decodeState(pt []byte) (name string, data []byte, err error) {
	n, k := binary.Uvarint(pt)
	if k <= 0 || n > uint64(len(pt)-k) {
		return "", nil, fmt.Errorf("%w: state blob", ErrCorrupt)
	}
	return string(pt[k : k+int(n)]), pt[k+int(n):], nil
}

func (v *Vault) currentKeys() (*envelope.Keys, error) { return v.keysOf(false) }

// keysOf returns the current keys; force re-reads the header itself (for
// writers, and after a blob failed to open).
func (v *Vault) keysOf(force bool) (*envelope.Keys, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys == nil {
		return nil, ErrClosed
	}
	if err := v.readHeaderLocked(force); err != nil {
		return nil, err
	}
	return v.keys, nil
}

// readState reads the state blob called name from file, its name under
// keys.
func readState(store Store, keys *envelope.Keys, name, file string) ([]byte, StateStamp, error) {
	st, err := store.Stamp(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, StateStamp{}, fmt.Errorf("state %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, StateStamp{}, err
	}
	blob, err := store.Read(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, StateStamp{}, fmt.Errorf("state %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, StateStamp{}, err
	}
	data, err := openState(keys, name, file, blob)
	return data, StateStamp{s: st, exists: true}, err
}

// openState authenticates and decodes blob, read from file, the state
// blob called name.
func openState(keys *envelope.Keys, name, file string, blob []byte) ([]byte, error) {
	pt, err := keys.Open(envelope.BlobState, file, fromSlotFile(blob))
	if err != nil {
		return nil, fmt.Errorf("state %q: %w", name, err)
	}
	got, data, err := decodeState(pt)
	if err != nil || got != name {
		return nil, fmt.Errorf("state %q: %w", name, ErrTampered)
	}
	return data, nil
}

// ReadState returns the state blob called name and a stamp for
// StateChanged. A missing blob is ErrNotFound; one that fails
// authentication is ErrTampered (the stamp is still valid, so a caller can
// start afresh and overwrite it).
func (v *Vault) ReadState(ctx context.Context, name string) ([]byte, StateStamp, error) {
	if err := validStateName(name); err != nil {
		return nil, StateStamp{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, StateStamp{}, err
	}
	keys, err := v.currentKeys()
	if err != nil {
		return nil, StateStamp{}, err
	}
	data, st, err := readState(v.store, keys, name, v.stateFileOf(keys, name))
	if errors.Is(err, ErrTampered) {
		// The data key may have been rotated under an unchanged-looking
		// header stamp: try once more with the header read again.
		if keys2, kerr := v.keysOf(true); kerr == nil && keys2 != keys {
			return readState(v.store, keys2, name, v.stateFileOf(keys2, name))
		}
	}
	return data, st, err
}

// StateChanged reports whether the state blob called name differs from
// the version since was taken from. It costs one stat.
func (v *Vault) StateChanged(name string, since StateStamp) bool {
	v.mu.RLock()
	keys := v.keys
	v.mu.RUnlock()
	if keys == nil {
		return true
	}
	var cur StateStamp
	st, err := v.store.Stamp(v.stateFileOf(keys, name))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return true
	default:
		cur = StateStamp{s: st, exists: true}
	}
	return cur != since
}

// UpdateState is the read-modify-write of a state blob: under the vault
// lock it reads the blob from storage (nil when there is none or it fails
// authentication), calls fn, and writes what fn returns. fn returning an
// error writes nothing.
func (v *Vault) UpdateState(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) (StateStamp, error) {
	if err := validStateName(name); err != nil {
		return StateStamp{}, err
	}
	lctx, cancel := v.opts.lockContext(ctx)
	defer cancel()
	unlock, err := v.store.Lock(lctx, "")
	if err != nil {
		return StateStamp{}, err
	}
	defer unlock()
	// A writer seals under the current key. The header's stamp tells:
	// every header write makes it new (see dirHandle.replace). Were it
	// ever wrong, the blob would fail to open for others, who start
	// afresh: a state blob holds nothing that must survive.
	keys, err := v.keysOf(false)
	if err != nil {
		return StateStamp{}, err
	}
	file := v.stateFileOf(keys, name)
	// update turns the sealed blob on disk (nil: none) into the new one.
	update := func(blob []byte) ([]byte, error) {
		var old []byte
		var err error
		if blob != nil {
			old, err = openState(keys, name, file, blob)
		}
		// A blob that is not authentic or not even an envelope is
		// replaced: the caller starts afresh. A newer envelope version
		// is left alone.
		if err != nil && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrCorrupt) &&
			!errors.Is(err, records.ErrEnvelopeFormat) {
			return nil, err
		}
		data, err := fn(old)
		if err != nil {
			return nil, err
		}
		if len(data) > MaxStateSize {
			return nil, fmt.Errorf("vault: state %q is %d bytes, limit %d", name, len(data), MaxStateSize)
		}
		return keys.Seal(envelope.BlobState, file, encodeState(name, data))
	}
	var st Stamp
	if su, ok := v.store.(stateUpdater); ok {
		st, err = su.updateVolatile(file, update)
	} else {
		st, err = updateByName(v.store, file, update)
	}
	if err != nil {
		return StateStamp{}, err
	}
	v.tidyState()
	return StateStamp{s: st, exists: true}, nil
}

// unwantedState reports whether a state blob that failed to read with
// err is overwritten as if there were none: it is missing, or too large
// to be one.
func unwantedState(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrCorrupt)
}

// stateUpdater is implemented by stores that can read a blob and replace
// it, atomically and without fsync, in one pass (the directory store:
// one handle of the blob's directory), returning the new blob's stamp.
// The caller holds the vault lock.
type stateUpdater interface {
	updateVolatile(name string, fn func(old []byte) ([]byte, error)) (Stamp, error)
}

// updateByName is updateVolatile through the Store interface.
func updateByName(store Store, name string, fn func(old []byte) ([]byte, error)) (Stamp, error) {
	old, err := store.Read(name)
	if unwantedState(err) {
		old, err = nil, nil
	}
	if err != nil {
		return Stamp{}, err
	}
	blob, err := fn(old)
	if err != nil {
		return Stamp{}, err
	}
	if vw, ok := store.(VolatileWriter); ok {
		err = vw.WriteVolatile(name, blob)
	} else {
		err = store.Write(name, blob)
	}
	if err != nil {
		return Stamp{}, err
	}
	return store.Stamp(name)
}

// DeleteState removes a state blob; a missing one is not an error.
func (v *Vault) DeleteState(ctx context.Context, name string) error {
	lctx, cancel := v.opts.lockContext(ctx)
	defer cancel()
	unlock, err := v.store.Lock(lctx, "")
	if err != nil {
		return err
	}
	defer unlock()
	keys, err := v.currentKeys()
	if err != nil {
		return err
	}
	return v.store.Remove(stateFile(keys, name))
}

// LockRecord takes the per-record lock for id, shared by every process
// using the vault, waiting until ctx ends. The transport holds it around a
// token refresh so that a refresh token is used once, whatever the number
// of processes. It is independent of the vault's write lock: Update may be
// called while holding it.
func (v *Vault) LockRecord(ctx context.Context, id records.ID) (unlock func(), err error) {
	keys, err := v.currentKeys()
	if err != nil {
		return nil, err
	}
	return v.store.Lock(ctx, keys.FileName("lock\x00"+id.String()))
}

// tidyState removes, under the vault lock, the temporary files of state
// writes that a killed process left, once they are debrisAge old: a
// program that only writes state (a gateway) collects its own debris.
// State is written on every cooldown, so the directory is listed at most
// once per debrisAge of the vault's clock per process: debris lasts at
// most twice that.
func (v *Vault) tidyState() {
	mt, ok := v.store.(modTimer)
	if !ok {
		return
	}
	now := v.opts.now()
	v.mu.Lock()
	due := v.tidied.IsZero() || now.Sub(v.tidied) >= debrisAge || now.Before(v.tidied)
	if due {
		v.tidied = now
	}
	v.mu.Unlock()
	if !due {
		return
	}
	names, _ := v.store.List(stateDir)
	for _, n := range names {
		if _, base := split(n); isTempName(base) {
			if t, err := mt.modTime(n); err == nil && now.Sub(t) >= debrisAge {
				_ = v.store.Remove(n)
			}
		}
	}
}

// fromSlotFile returns the sealed blob inside a state file written by
// earlier versions, which kept two slots in one file and wrote them in
// place ("AVSLOT1\x00" | current seq u64 | capacity u32 | zeros to 64,
// then two slots of seq u64 | length u32 | 4 zeros | 32-byte digest |
// data, little-endian): the slot holding the current seq. Anything else
// is returned as it is. The blob is authenticated after, so no slot
// checksum is needed; the next write replaces the file with a plain one.
func fromSlotFile(b []byte) []byte {
	if len(b) < 64 || string(b[:8]) != "AVSLOT1\x00" {
		return b
	}
	seq := binary.LittleEndian.Uint64(b[8:16])
	capacity := int(binary.LittleEndian.Uint32(b[16:20]))
	for i := range 2 {
		start := 64 + i*(48+capacity)
		if capacity <= 0 || start+48 > len(b) || binary.LittleEndian.Uint64(b[start:]) != seq {
			continue
		}
		n := int(binary.LittleEndian.Uint32(b[start+8:]))
		if n <= capacity && start+48+n <= len(b) {
			return b[start+48 : start+48+n]
		}
	}
	return b
}
