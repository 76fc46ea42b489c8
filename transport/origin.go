package transport

import (
	"errors"
	"fmt"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// ErrOriginNotBound is wrapped by every *OriginError.
var ErrOriginNotBound = errors.New("origin is not bound to the account")

// OriginError is a request the transport refused to send, before anything
// left the process: its origin (scheme, host, port), after the adapter
// pointed it at the account's own endpoint, is not one the serving
// account's credential may go to (see adapters.Adapter.Origins and
// WithOrigins). The request's own URL, a redirect's next hop, and an
// https URL turned http are all checked alike. The error names the origin,
// the pool and the account, never the credential.
type OriginError struct {
	Origin  adapters.Origin // where the request was addressed
	Pool    pool.Key
	Account records.ID
}

func (e *OriginError) Error() string {
	return fmt.Sprintf("authvault: pool %s: refusing to send %s's credential to %s: %v (bind it with WithOrigins, or the account's base URL)",
		e.Pool, e.Account, e.Origin, ErrOriginNotBound)
}

// Unwrap returns ErrOriginNotBound.
func (e *OriginError) Unwrap() error { return ErrOriginNotBound }
