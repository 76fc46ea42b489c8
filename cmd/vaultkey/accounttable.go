package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// kindCell is the credential kind of id in kinds, "-" when missing.
func kindCell(kinds map[records.ID]records.Kind, id records.ID) string {
	if k, ok := kinds[id]; ok {
		return string(k)
	}
	return "-"
}

// writeAccountsTable writes accounts as an aligned table, one row per
// account in the order given (a pool's Accounts are in pool order):
//
//	#  PROVIDER   NAMESPACE  LABEL  KIND  STATE                                LAST USED  SUCCESSES  429S
//	1  anthropic  default    work   api   cooling until 14:03:10 (rate_limit)  2m ago     120        3
//
// # is the account's position in its pool, from 1. STATE is "ready",
// "cooling until HH:MM:SS (reason)" (with the date when not today),
// "needs re-auth (reason)", "disabled (reason)" or "unreadable (class)";
// a ready account whose
// cooldowns hold only for some models says how many. LAST USED is
// relative to now. 429S counts rate-limited and quota-exhausted outcomes.
// Times are shown in now's location. kinds gives the credential kind of
// each account (from the vault's List) for the KIND column; accounts
// missing from it show "-".
func writeAccountsTable(w io.Writer, accts []pool.Account, now time.Time, kinds map[records.ID]records.Kind) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tPROVIDER\tNAMESPACE\tLABEL\tKIND\tSTATE\tLAST USED\tSUCCESSES\t429S")
	for _, a := range accts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n",
			a.Position+1, cell(a.ID.Provider), cell(a.ID.Namespace), cell(a.ID.Label), kindCell(kinds, a.ID),
			cell(accountState(a, now)), lastUsed(a.Stats.LastUsed, now),
			a.Stats.Successes, a.Stats.RateLimited+a.Stats.QuotaExhausted)
	}
	return tw.Flush()
}

// cell keeps a value on its table cell: tabs and line breaks (which labels
// and reasons cannot hold, but a table must never trust) become spaces.
func cell(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' {
			b[i] = ' '
		}
	}
	return string(b)
}

// accountState describes an account's availability in words, as the
// STATE column of writeAccountsTable shows it.
func accountState(a pool.Account, now time.Time) string {
	switch a.Availability {
	case pool.Disabled:
		return withReason("disabled", a.DisabledReason)
	case pool.ReauthNeeded:
		return withReason("needs re-auth", a.ReauthReason)
	case pool.Unreadable:
		return withReason("unreadable", a.Unreadable)
	case pool.Cooling:
		if a.Until.After(now) {
			return withReason("cooling until "+clockTime(a.Until, now), coolingReason(a))
		}
	}
	n := 0
	for _, cd := range a.Cooldowns {
		if cd.Model != "" && cd.Until.After(now) {
			n++
		}
	}
	switch n {
	case 0:
		return "ready"
	case 1:
		return "ready (1 model cooling)"
	}
	return "ready (" + strconv.Itoa(n) + " models cooling)"
}

func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + " (" + reason + ")"
}

// coolingReason is the reason of the account-wide cooldown, or its kind.
func coolingReason(a pool.Account) string {
	for _, cd := range a.Cooldowns {
		if cd.Model == "" {
			if cd.Reason != "" {
				return cd.Reason
			}
			return cd.Kind.String()
		}
	}
	return ""
}

// clockTime formats t as HH:MM:SS in now's location, with the date in front
// when t is not on now's day.
func clockTime(t, now time.Time) string {
	t = t.In(now.Location())
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04:05")
	}
	if y1 == y2 {
		return t.Format("Jan 2 15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}

// lastUsed says how long before now t was: "never" for the zero time,
// else "just now", "42s ago", "5m ago", "3h ago" or "2d ago".
func lastUsed(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d ago"
}

// jsonAccount is one account in `vaultkey accounts list --json`.
type jsonAccount struct {
	ID        string `json:"id"`
	Provider  string `json:"provider"`
	Namespace string `json:"namespace"`
	Label     string `json:"label"`
	Kind      string `json:"kind,omitempty"`
	// Position is the account's place in its pool's order, from 1.
	Position int `json:"position"`
	// State is "ready", "cooling", "needs-reauth", "disabled" or
	// "unreadable".
	State string `json:"state"`
	// Until is when an account-wide cooldown ends.
	Until          time.Time `json:"until,omitzero"`
	Disabled       bool      `json:"disabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	DisabledAt     time.Time `json:"disabled_at,omitzero"`
	NeedsReauth    bool      `json:"needs_reauth"`
	ReauthReason   string    `json:"reauth_reason,omitempty"`
	// Unreadable is why the account's record cannot be read: "tampered",
	// "permissions", "missing", "rollback" or "error".
	Unreadable string         `json:"unreadable,omitempty"`
	Cooldowns  []jsonCooldown `json:"cooldowns,omitempty"`
	Stats      jsonStats      `json:"stats"`
}

// jsonStats is an account's counters. last_outcome is left out until an
// outcome was reported: the zero pool.OutcomeKind is "success", which an
// account never used has not had.
type jsonStats struct {
	pool.Stats
	LastOutcome string `json:"last_outcome,omitempty"`
}

// jsonCooldown is one backoff entry of an account.
type jsonCooldown struct {
	Model  string    `json:"model,omitempty"`
	Kind   string    `json:"kind"`
	Until  time.Time `json:"until"`
	Active bool      `json:"active"`
	Step   int       `json:"step"`
	Reason string    `json:"reason,omitempty"`
	Status int       `json:"status,omitempty"`
}

var stateNames = map[pool.Availability]string{
	pool.Ready: "ready", pool.Cooling: "cooling", pool.ReauthNeeded: "needs-reauth", pool.Disabled: "disabled",
	pool.Unreadable: "unreadable",
}

// jsonAccounts converts accounts for JSON output, with the kinds of
// writeAccountsTable. It never includes a credential: pool accounts carry
// none.
func jsonAccounts(accts []pool.Account, now time.Time, kinds map[records.ID]records.Kind) []jsonAccount {
	out := make([]jsonAccount, 0, len(accts))
	for _, a := range accts {
		j := jsonAccount{
			ID: a.ID.String(), Provider: a.ID.Provider, Namespace: a.ID.Namespace, Label: a.ID.Label,
			Position: a.Position + 1, State: stateNames[a.Availability],
			Disabled: a.Disabled, DisabledReason: a.DisabledReason, DisabledAt: a.DisabledAt,
			NeedsReauth: a.NeedsReauth, ReauthReason: a.ReauthReason,
			Unreadable: a.Unreadable,
			Stats:      jsonStats{Stats: a.Stats},
		}
		if !a.Stats.LastReport.IsZero() {
			j.Stats.LastOutcome = a.Stats.LastOutcome.String()
		}
		if k, ok := kinds[a.ID]; ok {
			j.Kind = string(k)
		}
		if j.State == "" {
			j.State = a.Availability.String()
		}
		if a.Availability == pool.Cooling && !a.Until.After(now) {
			j.State = "ready"
		}
		if j.State == "cooling" {
			j.Until = a.Until
		}
		for _, cd := range a.Cooldowns {
			j.Cooldowns = append(j.Cooldowns, jsonCooldown{
				Model: cd.Model, Kind: cd.Kind.String(), Until: cd.Until, Active: cd.Until.After(now),
				Step: cd.Step, Reason: cd.Reason, Status: cd.Status,
			})
		}
		out = append(out, j)
	}
	return out
}
