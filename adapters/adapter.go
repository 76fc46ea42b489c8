package adapters

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// Adapter is everything provider-specific about sending a request with an
// account's credential.
type Adapter interface {
	// Provider returns the lower-case provider id the adapter serves.
	Provider() string

	// Authorize sets the credential headers on req for rec, and where the
	// account dictates its own endpoint (Copilot, Qwen) the request URL's
	// scheme and host. req is a clone that the caller owns; Authorize
	// must not keep it.
	//
	// A request addressed to the provider's default base URL is re-pointed
	// at the account's own base URL when the record has one
	// (Meta[MetaBaseURL]).
	Authorize(req *http.Request, rec *records.Record) error

	// Origins returns the origins rec's credential may be sent to: the
	// provider's documented API origins, the account's own endpoint where
	// the provider gives one (Copilot, Qwen), and the origin of the
	// account's base URL (Meta[MetaBaseURL]). The transport refuses to
	// send a request Authorize left at any other origin. The result must
	// not be modified.
	Origins(rec *records.Record) []Origin

	// Classify turns a response into a pool outcome, reading the provider's
	// rate-limit and error signals relative to now. It may read the body,
	// bounded (see PeekBody), and must then leave an equivalent, unread
	// body in resp for the caller.
	Classify(resp *http.Response, now time.Time) pool.Outcome

	// Refresh obtains a new access token for rec with client and returns
	// the updated record (a copy: rec is not modified). Rotated refresh
	// tokens must be in the result. Adapters whose credentials cannot be
	// refreshed return ErrNotRefreshable; a refresh the provider refused
	// for good returns a *RefreshError with Permanent set.
	Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error)
}

// ErrNotRefreshable is returned by Refresh for credentials that have no
// refresh mechanism (API keys).
var ErrNotRefreshable = errors.New("credential cannot be refreshed")

// RefreshError is a refresh the provider answered with an error.
type RefreshError struct {
	Provider string
	// Status is the token endpoint's HTTP status, 0 for a network error.
	Status int
	// Code is the OAuth error code (invalid_grant, refresh_token_reused…).
	Code string
	// Permanent means the refresh token is dead: the account needs a new
	// login. Otherwise the refresh may succeed when tried again later.
	Permanent bool
	// Err is the underlying error, if any. It never holds a token.
	Err error
}

func (e *RefreshError) Error() string {
	s := e.Provider + ": token refresh failed"
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Permanent {
		s += " (re-authentication needed)"
	}
	return s
}

func (e *RefreshError) Unwrap() error { return e.Err }

var (
	registryMu sync.RWMutex
	registry   = map[string]Adapter{}
)

// Register makes an adapter available under its provider id. Adapter
// packages call it from init; registering one id twice panics, as
// database/sql drivers do.
func Register(a Adapter) {
	registryMu.Lock()
	defer registryMu.Unlock()
	p := a.Provider()
	if _, dup := registry[p]; dup {
		panic("adapters: Register called twice for provider " + p)
	}
	registry[p] = a
}

// Lookup returns the adapter registered for provider.
func Lookup(provider string) (Adapter, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	a, ok := registry[provider]
	return a, ok
}

// Providers returns the registered provider ids, sorted.
func Providers() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	ps := make([]string, 0, len(registry))
	for p := range registry {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}
