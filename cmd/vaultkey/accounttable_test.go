package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

var tableNow = time.Date(2025, 6, 1, 14, 0, 0, 0, time.UTC)

func testAccount(label string, pos int) pool.Account {
	return pool.Account{ID: records.ID{Provider: "anthropic", Namespace: "default", Label: label}, Position: pos}
}

func TestAccountState(t *testing.T) {
	cooling := testAccount("a", 0)
	cooling.Availability, cooling.Until = pool.Cooling, tableNow.Add(3*time.Minute+10*time.Second)
	cooling.Cooldowns = []pool.Cooldown{{Kind: pool.RateLimited, Until: cooling.Until, Reason: "rate_limit_error"}}
	noReason := cooling
	noReason.Cooldowns = []pool.Cooldown{{Kind: pool.QuotaExhausted, Until: cooling.Until}}
	tomorrow := cooling
	tomorrow.Until = tableNow.Add(30 * time.Hour)
	nextYear := cooling
	nextYear.Until = time.Date(2026, 1, 1, 1, 2, 3, 0, time.UTC)
	expired := cooling
	expired.Until = tableNow.Add(-time.Second)
	disabled := testAccount("d", 0)
	disabled.Availability, disabled.Disabled, disabled.DisabledReason = pool.Disabled, true, "billing"
	reauth := testAccount("r", 0)
	reauth.Availability, reauth.NeedsReauth, reauth.ReauthReason = pool.ReauthNeeded, true, "invalid_grant"
	models := testAccount("m", 0)
	models.Cooldowns = []pool.Cooldown{{Model: "opus", Until: tableNow.Add(time.Minute)}, {Model: "haiku", Until: tableNow.Add(-time.Minute)}}

	for _, tc := range []struct {
		a    pool.Account
		want string
	}{
		{testAccount("x", 0), "ready"},
		{cooling, "cooling until 14:03:10 (rate_limit_error)"},
		{noReason, "cooling until 14:03:10 (quota-exhausted)"},
		{tomorrow, "cooling until Jun 2 20:00:00 (rate_limit_error)"},
		{nextYear, "cooling until 2026-01-01 01:02:03 (rate_limit_error)"},
		{expired, "ready"},
		{disabled, "disabled (billing)"},
		{reauth, "needs re-auth (invalid_grant)"},
		{models, "ready (1 model cooling)"},
	} {
		if got := accountState(tc.a, tableNow); got != tc.want {
			t.Errorf("AccountState(%s) = %q, want %q", tc.a.ID.Label, got, tc.want)
		}
	}
}

func TestLastUsed(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                      "just now",
		-time.Minute:           "just now",
		42 * time.Second:       "42s ago",
		5 * time.Minute:        "5m ago",
		3 * time.Hour:          "3h ago",
		47 * time.Hour:         "47h ago",
		72 * time.Hour:         "3d ago",
		400 * time.Millisecond: "just now",
	} {
		if got := lastUsed(tableNow.Add(-d), tableNow); got != want {
			t.Errorf("LastUsed(-%v) = %q, want %q", d, got, want)
		}
	}
	if got := lastUsed(time.Time{}, tableNow); got != "never" {
		t.Errorf("LastUsed(zero) = %q", got)
	}
}

func TestWriteAccountsTableSanitizes(t *testing.T) {
	a := testAccount("evil\tlabel\nwith breaks", 0)
	a.Availability, a.Disabled, a.DisabledReason = pool.Disabled, true, "a\nb"
	var b strings.Builder
	if err := writeAccountsTable(&b, []pool.Account{a}, tableNow, nil); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 2 {
		t.Errorf("a label with line breaks broke the table:\n%s", b.String())
	}
	if !strings.Contains(b.String(), " - ") {
		t.Errorf("unknown kind not shown as -:\n%s", b.String())
	}
}

func TestAccountsJSON(t *testing.T) {
	a := testAccount("a", 2)
	a.Availability, a.Until = pool.Cooling, tableNow.Add(time.Minute)
	a.Cooldowns = []pool.Cooldown{{Kind: pool.RateLimited, Until: a.Until, Step: 2, Reason: "r", Status: 429}}
	a.Stats.Successes = 7
	expired := testAccount("b", 3)
	expired.Availability, expired.Until = pool.Cooling, tableNow.Add(-time.Minute)
	got := jsonAccounts([]pool.Account{a, expired, {ID: records.ID{Provider: "p", Namespace: "n", Label: "l"}, Availability: pool.ReauthNeeded}},
		tableNow, map[records.ID]records.Kind{a.ID: records.KindOAuth})
	if got[0].Position != 3 || got[0].State != "cooling" || !got[0].Until.Equal(a.Until) || got[0].Kind != "oauth" ||
		len(got[0].Cooldowns) != 1 || !got[0].Cooldowns[0].Active || got[0].Cooldowns[0].Kind != "rate-limited" || got[0].Stats.Successes != 7 {
		t.Errorf("cooling account: %+v", got[0])
	}
	if got[1].State != "ready" || !got[1].Until.IsZero() || got[1].Kind != "" {
		t.Errorf("expired cooldown: %+v", got[1])
	}
	if got[2].State != "needs-reauth" || got[2].ID != "p/n/l" {
		t.Errorf("reauth account: %+v", got[2])
	}
}

// An account never used has no last outcome; one that was has its own,
// success included.
func TestAccountsJSONLastOutcome(t *testing.T) {
	used, limited := testAccount("a", 0), testAccount("b", 1)
	used.Stats.LastReport, used.Stats.LastOutcome = tableNow, pool.Success
	limited.Stats.LastReport, limited.Stats.LastOutcome = tableNow, pool.RateLimited
	b, err := json.Marshal(jsonAccounts([]pool.Account{used, limited, testAccount("c", 2)}, tableNow, nil))
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Stats map[string]any `json:"stats"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for i, want := range []any{"success", "rate-limited", nil} {
		if o := got[i].Stats["last_outcome"]; o != want {
			t.Errorf("account %d: last_outcome %v, want %v (%s)", i, o, want, b)
		}
	}
}

// A pool's Accounts, rendered as vaultkey accounts list shows them.
func TestWriteAccountsTable(t *testing.T) {
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
	var b strings.Builder
	writeAccountsTable(&b, accts, now,
		map[records.ID]records.Kind{work: records.KindOAuth, home: records.KindAPI})
	want := `#  PROVIDER   NAMESPACE  LABEL  KIND   STATE                                      LAST USED  SUCCESSES  429S
1  anthropic  default    work   oauth  cooling until 14:01:35 (rate_limit_error)  2m ago     120        3
2  anthropic  default    home   api    ready                                      20s ago    4          0
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
