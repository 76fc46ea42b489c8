package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/authvault/authvault/vault"
)

// StateName is the name of the vault state blob holding the usage.
const StateName = "gateway.usage"

// formatVersion is the version of the blob's JSON.
const formatVersion = 1

// ErrCorrupt is a usage blob that authenticated but does not decode.
var ErrCorrupt = errors.New("usage: corrupt state")

// Counts are the requests and tokens of one account or one client.
type Counts struct {
	Requests int64 `json:"requests"`
	// Statuses counts the answers by HTTP status ("200", "429"); the
	// gateway's own answers that reached no upstream are counted too.
	Statuses     map[string]int64 `json:"statuses,omitempty"`
	InputTokens  int64            `json:"input_tokens"`
	OutputTokens int64            `json:"output_tokens"`
}

// Account is what was observed of one account.
type Account struct {
	Counts
	// RateLimit is the last set of rate-limit headers the provider sent
	// for the account, nil when none was seen.
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
}

// Usage is the whole blob: accounts by ID (provider/namespace/label),
// clients by name.
type Usage struct {
	Accounts map[string]*Account `json:"accounts"`
	Clients  map[string]*Counts  `json:"clients"`
}

type blob struct {
	V int `json:"v"`
	Usage
}

func empty() *Usage {
	return &Usage{Accounts: map[string]*Account{}, Clients: map[string]*Counts{}}
}

// Read returns the usage recorded in the vault; an empty Usage when there
// is none yet. A blob that fails authentication is vault.ErrTampered, one
// that does not decode ErrCorrupt.
func Read(ctx context.Context, v *vault.Vault) (*Usage, error) {
	data, _, err := v.ReadState(ctx, StateName)
	if errors.Is(err, vault.ErrNotFound) {
		return empty(), nil
	}
	if err != nil {
		return nil, err
	}
	return decode(data)
}

func decode(data []byte) (*Usage, error) {
	var b blob
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if b.V != formatVersion {
		return nil, fmt.Errorf("%w: version %d", ErrCorrupt, b.V)
	}
	u := &b.Usage
	if u.Accounts == nil {
		u.Accounts = map[string]*Account{}
	}
	if u.Clients == nil {
		u.Clients = map[string]*Counts{}
	}
	for k, a := range u.Accounts {
		if a == nil {
			delete(u.Accounts, k)
		}
	}
	for k, c := range u.Clients {
		if c == nil {
			delete(u.Clients, k)
		}
	}
	return u, nil
}

func encode(u *Usage) ([]byte, error) {
	return json.Marshal(blob{V: formatVersion, Usage: *u})
}

// count adds one request answered with status, and its tokens.
func (c *Counts) count(status string, in, out int64) {
	c.Requests++
	c.InputTokens += in
	c.OutputTokens += out
	if c.Statuses == nil {
		c.Statuses = map[string]int64{}
	}
	c.Statuses[status]++
}

// add adds d's counts to c.
func (c *Counts) add(d *Counts) {
	c.Requests += d.Requests
	c.InputTokens += d.InputTokens
	c.OutputTokens += d.OutputTokens
	for k, n := range d.Statuses {
		if c.Statuses == nil {
			c.Statuses = map[string]int64{}
		}
		c.Statuses[k] += n
	}
}

// merge adds d's counts to u, and takes d's rate-limit headers where
// they were seen later than u's.
func (u *Usage) merge(d *Usage) {
	for id, da := range d.Accounts {
		a := u.account(id)
		a.add(&da.Counts)
		if da.RateLimit != nil && (a.RateLimit == nil || da.RateLimit.Seen.After(a.RateLimit.Seen)) {
			a.RateLimit = da.RateLimit
		}
	}
	for name, dc := range d.Clients {
		u.client(name).add(dc)
	}
}

// account returns u's entry for the account id, adding an empty one.
func (u *Usage) account(id string) *Account {
	a := u.Accounts[id]
	if a == nil {
		a = &Account{}
		u.Accounts[id] = a
	}
	return a
}

// client returns u's counts for the client name, adding empty ones.
func (u *Usage) client(name string) *Counts {
	c := u.Clients[name]
	if c == nil {
		c = &Counts{}
		u.Clients[name] = c
	}
	return c
}
