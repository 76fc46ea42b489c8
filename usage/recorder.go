package usage

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// Recorder collects usage in memory and adds it to the vault's blob on
// Flush, under the vault's lock: several processes recording at once
// lose none of each other's counts. It is safe for concurrent use.
type Recorder struct {
	store *vault.Vault

	mu      sync.Mutex
	pending *Usage
	// flushing serializes Flush, so counts leave pending once.
	flushing sync.Mutex
}

// NewRecorder returns a Recorder writing to v.
func NewRecorder(v *vault.Vault) *Recorder {
	return &Recorder{store: v, pending: empty()}
}

// Exchange is one request as the gateway saw it.
type Exchange struct {
	// Account served the request; zero when none was reached (a refused
	// request, or no account could serve).
	Account records.ID
	// Client is the gateway client's name.
	Client       string
	Status       int
	InputTokens  int64
	OutputTokens int64
}

// Record counts one exchange for its account and client.
func (r *Recorder) Record(x Exchange) {
	status := strconv.Itoa(x.Status)
	r.mu.Lock()
	defer r.mu.Unlock()
	if x.Account != (records.ID{}) {
		r.pending.account(x.Account.String()).count(status, x.InputTokens, x.OutputTokens)
	}
	if x.Client != "" {
		r.pending.client(x.Client).count(status, x.InputTokens, x.OutputTokens)
	}
}

// SeeRateLimit keeps the rate-limit headers of h (the rate-limit headers of Anthropic, OpenAI and Codex, bounded)
// as the account's latest, seen at now. A response without any changes
// nothing.
func (r *Recorder) SeeRateLimit(id records.ID, h http.Header, now time.Time) {
	hs := rateLimitHeaders(h)
	if hs == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.pending.account(id.String())
	if a.RateLimit == nil || !now.Before(a.RateLimit.Seen) {
		a.RateLimit = &RateLimit{Seen: now.UTC(), Headers: hs}
	}
}

// Flush adds what was recorded since the last Flush to the vault's blob.
// A blob that does not decode or authenticate is started afresh (usage is
// an observation). On an error the counts are kept for the next Flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushing.Lock()
	defer r.flushing.Unlock()
	r.mu.Lock()
	d := r.pending
	r.pending = empty()
	r.mu.Unlock()
	if len(d.Accounts) == 0 && len(d.Clients) == 0 {
		return nil
	}
	_, err := r.store.UpdateState(ctx, StateName, func(old []byte) ([]byte, error) {
		u := empty()
		if old != nil {
			if got, err := decode(old); err == nil {
				u = got
			}
		}
		u.merge(d)
		return encode(u)
	})
	if err != nil {
		// Put the counts back, under anything recorded meanwhile.
		r.mu.Lock()
		d.merge(r.pending)
		r.pending = d
		r.mu.Unlock()
		return errors.Join(errors.New("usage: flush"), err)
	}
	return nil
}
