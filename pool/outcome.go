package pool

import (
	"errors"
	"fmt"
	"time"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// OutcomeKind says what happened to a request sent with a lease.
type OutcomeKind int

// The outcomes a provider response is classified into.
const (
	// Success: the account served the request.
	Success OutcomeKind = iota
	// RateLimited: the account is over a short-term limit; cool it down
	// until the server's hint or by exponential backoff.
	RateLimited
	// QuotaExhausted: a long-term quota (daily, monthly, billing) is used
	// up; cool the account down until its reset, honoured up to 7 days.
	QuotaExhausted
	// AuthRejected: the credential was refused (401/403). The transport
	// refreshes once; when that fails the account needs re-authentication.
	AuthRejected
	// NeedsReauth: the credential cannot be used again without a login
	// (refresh token revoked, expired or reused). Persisted until a
	// successful refresh or login clears it.
	NeedsReauth
	// Fatal: the provider refuses this account for good (for example a
	// credential that is only authorized for another client). The account
	// is disabled with the reason and left for the operator.
	Fatal
	// Overloaded: the provider is over capacity for everyone (Anthropic
	// 529, Google 503 UNAVAILABLE). Not the account's fault: no cooldown.
	Overloaded
	// Transient: a network error or a 5xx. No cooldown.
	Transient
	// RecordUnreadable: the account's record could not be read from the vault
	// (tampered with, unsafe permissions, missing). Reason is the error's
	// class (UnreadableClass). The account is marked unreadable and
	// skipped; it is tried again after UnreadableRecheck, and a Success on
	// it, or Reset, clears the mark.
	RecordUnreadable
)

var outcomeNames = [...]string{"success", "rate-limited", "quota-exhausted", "auth-rejected", "needs-reauth", "fatal", "overloaded", "transient", "unreadable"}

// String returns the outcome's name.
func (k OutcomeKind) String() string {
	if int(k) < len(outcomeNames) && k >= 0 {
		return outcomeNames[k]
	}
	return fmt.Sprintf("OutcomeKind(%d)", int(k))
}

// MarshalText encodes the kind as its name, so persisted pool state and
// JSON output stay readable and stable if constants are ever added.
func (k OutcomeKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(outcomeNames) {
		return nil, fmt.Errorf("pool: unknown outcome kind %d", int(k))
	}
	return []byte(outcomeNames[k]), nil
}

// UnmarshalText parses a name written by MarshalText.
func (k *OutcomeKind) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if string(b) == n {
			*k = OutcomeKind(i)
			return nil
		}
	}
	return fmt.Errorf("pool: unknown outcome kind %q", b)
}

// UnreadableRecheck is how long an account whose record could not be read
// is skipped before a request tries to read it again.
const UnreadableRecheck = time.Minute

// UnreadableClass names the class of an error reading a record, as the
// Reason of a RecordUnreadable outcome: "tampered" (failed authentication or
// does not decode), "permissions" (a file others may read, a symlink),
// "missing" (the manifest names it, the file is gone), "rollback" (older
// than the manifest says), or "error". It never holds a secret.
func UnreadableClass(err error) string {
	switch {
	case errors.Is(err, vault.ErrPermissions):
		return "permissions"
	case errors.Is(err, vault.ErrRollback):
		return "rollback"
	case errors.Is(err, vault.ErrMissing), errors.Is(err, vault.ErrNotFound):
		return "missing"
	case errors.Is(err, vault.ErrTampered), errors.Is(err, vault.ErrCorrupt),
		errors.Is(err, records.ErrEnvelopeFormat), errors.Is(err, records.ErrEnvelopeVersion),
		errors.Is(err, records.ErrInvalidRecord), errors.Is(err, records.ErrUnsupportedVersion):
		return "tampered"
	}
	return "error"
}

// Outcome is what a provider's answer means for the account that sent it.
type Outcome struct {
	Kind OutcomeKind
	// Until is the server's hint of when the account may be used again
	// (Retry-After, a reset header, a retry delay in the body). Zero when
	// the server gave none; the pool then backs off exponentially. The
	// pool caps it.
	Until time.Time
	// Reason is a short, non-secret explanation: an error code such as
	// "rate_limit_exceeded" or "insufficient_quota", never a body excerpt
	// that could echo a credential.
	Reason string
	// Model scopes a cooldown to (account, model) when the pool cools
	// accounts per model. Empty: the lease's Hint.Model, or the whole
	// account when that is empty too.
	Model string
	// Status is the HTTP status code, 0 when no response arrived.
	Status int
	// Refreshed says the lease's credential was refreshed successfully
	// before the request that produced this outcome. It counts a refresh,
	// and a Success with Refreshed set clears the account's NeedsReauth
	// flag: the account has proved it works again.
	Refreshed bool
}
