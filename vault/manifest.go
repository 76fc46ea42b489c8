package vault

import (
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/authvault/authvault/records"
)

// manifest is the sealed index of the vault: which records exist, at which
// generation, and the vault's commit generation. It is decrypted whole on
// Open, so it is binary and compact: a 10 000-record vault opens in
// milliseconds.
//
// Plaintext layout (all integers unsigned varints unless noted):
//
//	version (=1) | vault generation | entry count |
//	entries: provider | namespace | label (each: length, bytes) |
//	         kind (1 byte) | generation | updated (signed varint, Unix ns)
type manifest struct {
	Generation uint64
	Entries    map[records.ID]*entry
}

type entry struct {
	Kind       records.Kind
	Generation uint64
	Updated    time.Time
	file       string // cached opaque file name, derived from the ID
}

const manifestVersion = 1

// maxManifestEntries bounds what a manifest may claim before anything is
// allocated for it.
const maxManifestEntries = 1 << 22

var kindCodes = map[records.Kind]byte{records.KindOAuth: 'o', records.KindAPI: 'a', records.KindWellKnown: 'w'}

func kindFromCode(c byte) (records.Kind, bool) {
	for k, v := range kindCodes {
		if v == c {
			return k, true
		}
	}
	return "", false
}

func newManifest() *manifest { return &manifest{Entries: map[records.ID]*entry{}} }

func (m *manifest) clone() *manifest {
	c := &manifest{Generation: m.Generation, Entries: make(map[records.ID]*entry, len(m.Entries))}
	for id, e := range m.Entries {
		ce := *e
		ce.file = "" // derived under a key that the copy may not share
		c.Entries[id] = &ce
	}
	return c
}

func (m *manifest) sortedIDs() []records.ID {
	ids := make([]records.ID, 0, len(m.Entries))
	for id := range m.Entries {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	return ids
}

func idLess(a, b records.ID) bool {
	if a.Provider != b.Provider {
		return a.Provider < b.Provider
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Label < b.Label
}

func (m *manifest) marshal() []byte {
	ids := m.sortedIDs()
	b := make([]byte, 0, 32+len(ids)*64)
	b = binary.AppendUvarint(b, manifestVersion)
	b = binary.AppendUvarint(b, m.Generation)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		e := m.Entries[id]
		for _, s := range []string{id.Provider, id.Namespace, id.Label} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		b = append(b, kindCodes[e.Kind])
		b = binary.AppendUvarint(b, e.Generation)
		b = binary.AppendVarint(b, e.Updated.UnixNano())
	}
	return b
}

type manifestReader struct {
	b   []byte
	err error
}

func (r *manifestReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: manifest: bad integer", ErrCorrupt)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *manifestReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: manifest: bad integer", ErrCorrupt)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *manifestReader) str(max int) string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(max) || n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: manifest: bad string length", ErrCorrupt)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *manifestReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = fmt.Errorf("%w: manifest: truncated", ErrCorrupt)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func unmarshalManifest(b []byte) (*manifest, error) {
	r := &manifestReader{b: b}
	if v := r.uvarint(); r.err == nil && v != manifestVersion {
		return nil, fmt.Errorf("%w: manifest version %d", ErrUnsupportedVersion, v)
	}
	m := &manifest{Generation: r.uvarint()}
	n := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	// Each entry takes at least 7 bytes: refuse counts the data cannot hold
	// before allocating for them.
	if n > maxManifestEntries || n > uint64(len(r.b))/7 {
		return nil, fmt.Errorf("%w: manifest claims %d entries in %d bytes", ErrCorrupt, n, len(r.b))
	}
	m.Entries = make(map[records.ID]*entry, n)
	for i := uint64(0); i < n; i++ {
		id := records.ID{
			Provider:  r.str(records.MaxProviderLen),
			Namespace: r.str(records.MaxNamespaceLen),
			Label:     r.str(records.MaxLabelLen),
		}
		kind, ok := kindFromCode(r.byte())
		e := &entry{Kind: kind, Generation: r.uvarint()}
		upd := r.varint()
		if r.err != nil {
			return nil, r.err
		}
		if !ok {
			return nil, fmt.Errorf("%w: manifest: unknown record kind", ErrCorrupt)
		}
		if upd != 0 {
			e.Updated = time.Unix(0, upd).UTC()
		}
		if err := id.Validate(); err != nil {
			return nil, fmt.Errorf("%w: manifest: %v", ErrCorrupt, err)
		}
		if _, dup := m.Entries[id]; dup {
			return nil, fmt.Errorf("%w: manifest: duplicate entry", ErrCorrupt)
		}
		if e.Generation > m.Generation {
			return nil, fmt.Errorf("%w: manifest: entry newer than the vault", ErrCorrupt)
		}
		m.Entries[id] = e
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: manifest: trailing data", ErrCorrupt)
	}
	return m, nil
}
