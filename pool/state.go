package pool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// stateVersion is the version of the persisted pool state. A reader
// refuses any other: an older blob is corrupt, a newer one belongs to a
// newer authvault and is never overwritten.
const stateVersion = 1

// state is the pool state shared by every process through one sealed
// vault state blob: the order of the accounts and each account's flags,
// cooldowns and counters. Accounts are keyed by label: provider and
// namespace are the pool's.
type state struct {
	V        int                   `json:"v"`
	Order    []string              `json:"order"`
	Accounts map[string]*acctState `json:"accounts"`
}

type acctState struct {
	// Added is when a pool first saw the account's record. An account
	// whose record is gone is forgotten only by a process whose vault
	// listing started after Added, so a listing older than the record
	// never drops it.
	Added          time.Time `json:"added"`
	Disabled       bool      `json:"disabled,omitempty"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	NeedsReauth    bool      `json:"needs_reauth,omitempty"`
	ReauthReason   string    `json:"reauth_reason,omitempty"`
	// Unreadable is the class of the error the account's record last
	// failed to read with (UnreadableClass), until a success clears it;
	// the account is skipped until UnreadableUntil.
	Unreadable      string               `json:"unreadable,omitempty"`
	UnreadableUntil time.Time            `json:"unreadable_until,omitzero"`
	Windows         uint64               `json:"windows,omitempty"`
	Cooldowns       map[string]*cooldown `json:"cooldowns,omitempty"`
	Stats           Stats                `json:"stats"`
}

func newState() *state {
	return &state{V: stateVersion, Order: []string{}, Accounts: map[string]*acctState{}}
}

// decodeState parses a persisted state strictly: unknown fields, trailing
// data, duplicate or dangling labels and impossible values are
// ErrCorruptState; a newer version is ErrNewerState.
func decodeState(b []byte) (*state, error) {
	var probe struct {
		V int `json:"v"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	if probe.V > stateVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrNewerState, probe.V, stateVersion)
	}
	if probe.V != stateVersion {
		return nil, fmt.Errorf("%w: version %d", ErrCorruptState, probe.V)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s state
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrCorruptState)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	return &s, nil
}

func (s *state) validate() error {
	if s.Order == nil {
		s.Order = []string{}
	}
	if s.Accounts == nil {
		s.Accounts = map[string]*acctState{}
	}
	if len(s.Order) != len(s.Accounts) {
		return fmt.Errorf("%d accounts in order, %d described", len(s.Order), len(s.Accounts))
	}
	seen := make(map[string]bool, len(s.Order))
	for _, l := range s.Order {
		if seen[l] {
			return fmt.Errorf("account %q listed twice", l)
		}
		seen[l] = true
		a := s.Accounts[l]
		if a == nil {
			return fmt.Errorf("account %q has no entry", l)
		}
		for m, cd := range a.Cooldowns {
			if cd == nil || cd.Kind != RateLimited && cd.Kind != QuotaExhausted || cd.Step < 1 || cd.Window > a.Windows {
				return fmt.Errorf("account %q: invalid cooldown for %q", l, m)
			}
		}
	}
	return nil
}

func (s *state) encode() ([]byte, error) { return json.Marshal(s) }

// An op is one change this process made to the pool state. It is applied
// at once to the process's copy, then again under the vault lock to the
// freshest copy on disk, which is how processes merge instead of
// overwriting each other: every op must give the same result when applied
// twice.
type op func(s *state)

// accountOp applies fn to the account labelled label, if the state has it.
func accountOp(label string, fn func(a *acctState)) op {
	return func(s *state) {
		if a := s.Accounts[label]; a != nil {
			fn(a)
		}
	}
}

// membershipOp appends the accounts in add that the state lacks, in that
// order, and forgets those in drop that were added before listStart.
func membershipOp(add, drop []string, now, listStart time.Time) op {
	return func(s *state) {
		for _, l := range add {
			if s.Accounts[l] == nil {
				s.Accounts[l] = &acctState{Added: now}
				s.Order = append(s.Order, l)
			}
		}
		if len(drop) == 0 {
			return
		}
		gone := make(map[string]bool, len(drop))
		for _, l := range drop {
			if a := s.Accounts[l]; a != nil && a.Added.Before(listStart) {
				gone[l] = true
				delete(s.Accounts, l)
			}
		}
		kept := s.Order[:0]
		for _, l := range s.Order {
			if !gone[l] {
				kept = append(kept, l)
			}
		}
		s.Order = kept
	}
}

// reorderOp puts the accounts of want in want's order, in the slots the
// state's order has them in; accounts want does not name (another process
// may have added some) keep their places.
func reorderOp(want []string) op {
	return func(s *state) {
		in := make(map[string]bool, len(want))
		for _, l := range want {
			if s.Accounts[l] != nil {
				in[l] = true
			}
		}
		seq := make([]string, 0, len(in))
		for _, l := range want {
			if in[l] {
				seq = append(seq, l)
				in[l] = false // a label given twice counts once
			}
		}
		k := 0
		for i, l := range s.Order {
			if _, ok := in[l]; ok {
				s.Order[i] = seq[k]
				k++
			}
		}
	}
}

// Stats are an account's counters. Requests, successes and the Last
// fields are written in batches (every 15 s), so another
// process's most recent requests may not show yet.
type Stats struct {
	Requests        uint64 `json:"requests,omitempty"`         // outcomes reported
	Successes       uint64 `json:"successes,omitempty"`        // Success outcomes
	RateLimited     uint64 `json:"rate_limited,omitempty"`     // RateLimited outcomes
	QuotaExhausted  uint64 `json:"quota_exhausted,omitempty"`  // QuotaExhausted outcomes
	AuthFailures    uint64 `json:"auth_failures,omitempty"`    // AuthRejected and NeedsReauth outcomes
	Overloaded      uint64 `json:"overloaded,omitempty"`       // Overloaded outcomes
	Errors          uint64 `json:"errors,omitempty"`           // Transient and Fatal outcomes
	Refreshes       uint64 `json:"refreshes,omitempty"`        // successful token refreshes
	RefreshFailures uint64 `json:"refresh_failures,omitempty"` // failed token refreshes

	LastUsed    time.Time   `json:"last_used,omitzero"`   // last lease handed out
	LastReport  time.Time   `json:"last_report,omitzero"` // last outcome reported
	LastStatus  int         `json:"last_status,omitempty"`
	LastOutcome OutcomeKind `json:"last_outcome"`
}

func (s *Stats) count(o Outcome, now time.Time) {
	s.Requests++
	switch o.Kind {
	case Success:
		s.Successes++
	case RateLimited:
		s.RateLimited++
	case QuotaExhausted:
		s.QuotaExhausted++
	case AuthRejected, NeedsReauth:
		s.AuthFailures++
	case Overloaded:
		s.Overloaded++
	case Transient, Fatal, RecordUnreadable:
		s.Errors++
	}
	if o.Refreshed {
		s.Refreshes++
	}
	if !now.Before(s.LastReport) {
		s.LastReport, s.LastStatus, s.LastOutcome = now, o.Status, o.Kind
	}
}

// add merges the unwritten counters d into s.
func (s *Stats) add(d Stats) {
	s.Requests += d.Requests
	s.Successes += d.Successes
	s.RateLimited += d.RateLimited
	s.QuotaExhausted += d.QuotaExhausted
	s.AuthFailures += d.AuthFailures
	s.Overloaded += d.Overloaded
	s.Errors += d.Errors
	s.Refreshes += d.Refreshes
	s.RefreshFailures += d.RefreshFailures
	if d.LastUsed.After(s.LastUsed) {
		s.LastUsed = d.LastUsed
	}
	if !d.LastReport.IsZero() && !d.LastReport.Before(s.LastReport) {
		s.LastReport, s.LastStatus, s.LastOutcome = d.LastReport, d.LastStatus, d.LastOutcome
	}
}

// sub removes the written counters d from the unwritten s.
func (s *Stats) sub(d Stats) {
	s.Requests -= d.Requests
	s.Successes -= d.Successes
	s.RateLimited -= d.RateLimited
	s.QuotaExhausted -= d.QuotaExhausted
	s.AuthFailures -= d.AuthFailures
	s.Overloaded -= d.Overloaded
	s.Errors -= d.Errors
	s.Refreshes -= d.Refreshes
	s.RefreshFailures -= d.RefreshFailures
	if s.LastUsed.Equal(d.LastUsed) {
		s.LastUsed = time.Time{}
	}
	if s.LastReport.Equal(d.LastReport) {
		s.LastReport, s.LastStatus, s.LastOutcome = time.Time{}, 0, 0
	}
}

func (s *Stats) isZero() bool { return *s == Stats{} }
