package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// StateName is the name of the vault state blob holding the log.
const StateName = "events"

// Max is how many entries the log keeps: the newest, for the whole vault.
const Max = 500

// version is the version of the blob's format. A reader refuses any
// other: an older blob is corrupt, a newer one belongs to a newer
// authvault and is never overwritten.
const version = 1

// ErrCorrupt is a log blob that opened (it is authentic) but does not
// hold a log this version of authvault wrote.
var ErrCorrupt = errors.New("eventlog: corrupt event log")

// ErrNewer is a log blob written by a newer version of authvault.
var ErrNewer = errors.New("eventlog: event log written by a newer authvault")

// document is the blob's plaintext.
type document struct {
	V int `json:"v"`
	// Seq is the sequence number of the last entry ever written, kept
	// when older entries are dropped.
	Seq     uint64  `json:"seq"`
	Entries []Entry `json:"entries"`
}

func decode(b []byte) (*document, error) {
	var probe struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if probe.V > version {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrNewer, probe.V, version)
	}
	if probe.V != version {
		return nil, fmt.Errorf("%w: version %d", ErrCorrupt, probe.V)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrCorrupt)
	}
	if len(d.Entries) > Max {
		return nil, fmt.Errorf("%w: %d entries, at most %d", ErrCorrupt, len(d.Entries), Max)
	}
	var last uint64
	for i, e := range d.Entries {
		if e.Seq <= last || e.Seq > d.Seq {
			return nil, fmt.Errorf("%w: entry %d has sequence number %d after %d (last %d)", ErrCorrupt, i, e.Seq, last, d.Seq)
		}
		last = e.Seq
	}
	return &d, nil
}

func (d *document) encode() ([]byte, error) { return json.Marshal(d) }

// append numbers es after the document's last entry, adds them and drops
// the oldest entries beyond Max.
func (d *document) append(es []Entry) {
	for _, e := range es {
		d.Seq++
		e.Seq = d.Seq
		d.Entries = append(d.Entries, e)
	}
	if n := len(d.Entries) - Max; n > 0 {
		d.Entries = append(d.Entries[:0:0], d.Entries[n:]...)
	}
}
