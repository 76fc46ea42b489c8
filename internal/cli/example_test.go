package cli_test

import (
	"os"
	"time"

	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// A pool's Accounts, rendered as vaultkey accounts list shows them.
func ExampleWriteAccountsTable() {
	now := time.Date(2025, 6, 1, 14, 0, 0, 0, time.UTC)
	work := records.ID{Provider: "anthropic", Namespace: "default", Label: "work"}
	home := records.ID{Provider: "anthropic", Namespace: "default", Label: "home"}
	accts := []pool.Account{ // as p.Accounts(ctx) returns them
		{ID: work, Position: 0, Availability: pool.Cooling, Until: now.Add(95 * time.Second),
			Cooldowns: []pool.Cooldown{{Kind: pool.RateLimited, Until: now.Add(95 * time.Second), Reason: "rate_limit_error"}},
			Stats:     pool.Stats{Successes: 120, RateLimited: 3, LastUsed: now.Add(-2 * time.Minute)}},
		{ID: home, Position: 1, Availability: pool.Ready,
			Stats: pool.Stats{Successes: 4, LastUsed: now.Add(-20 * time.Second)}},
	}
	cli.WriteAccountsTable(os.Stdout, accts, now,
		map[records.ID]records.Kind{work: records.KindOAuth, home: records.KindAPI})
	// Output:
	// #  PROVIDER   NAMESPACE  LABEL  KIND   STATE                                      LAST USED  SUCCESSES  429S
	// 1  anthropic  default    work   oauth  cooling until 14:01:35 (rate_limit_error)  2m ago     120        3
	// 2  anthropic  default    home   api    ready                                      20s ago    4          0
}
