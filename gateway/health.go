package gateway

import (
	"encoding/json"
	"net/http"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/vault"
)

// readiness reports, for each provider/namespace with accounts in the vault
// that the gateway can serve, how many accounts are ready now.
type readiness struct {
	Ready bool           `json:"ready"`
	Pools map[string]int `json:"pools"` // "provider/namespace" -> ready accounts
	Error string         `json:"error,omitempty"`
}

// serveReady answers /readyz: 200 when the vault can be read and every
// served pool has at least one account ready, else 503.
func (g *Gateway) serveReady(w http.ResponseWriter, r *http.Request) {
	rd := g.ready(r)
	status := http.StatusOK
	if !rd.Ready {
		status = http.StatusServiceUnavailable
	}
	b, _ := json.Marshal(rd)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (g *Gateway) ready(r *http.Request) readiness {
	ctx := r.Context()
	rd := readiness{Pools: map[string]int{}}
	entries, err := g.vault.List(ctx, vault.Filter{})
	if err != nil {
		rd.Error = "vault: " + err.Error()
		return rd
	}
	var keys []pool.Key
	seen := map[pool.Key]bool{}
	for _, e := range entries {
		k := pool.KeyOf(e.ID)
		if _, ok := adapters.Lookup(k.Provider); ok && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	rd.Ready = len(keys) > 0
	if len(keys) == 0 {
		rd.Error = "the vault holds no account"
	}
	for _, k := range keys {
		a, _ := adapters.Lookup(k.Provider)
		up, err := g.upstreamFor(ctx, k, a)
		if err != nil {
			rd.Ready = false
			rd.Error = err.Error()
			continue
		}
		accts, err := up.client.Pool.Accounts(ctx)
		if err != nil {
			rd.Ready = false
			rd.Error = err.Error()
			continue
		}
		n := 0
		for _, ac := range accts {
			if ac.Availability == pool.Ready {
				n++
			}
		}
		rd.Pools[k.String()] = n
		if n == 0 {
			rd.Ready = false
		}
	}
	return rd
}
