package eventlog

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind says what an Entry records.
type Kind string

// The kinds of entries.
const (
	// Rotate: a request moved from From to Account after From failed.
	Rotate Kind = "rotate"
	// Cooldown: Account is rate limited or out of quota until Until.
	Cooldown Kind = "cooldown"
	// Refresh: Account's token was refreshed (Adopted: another process
	// or goroutine had already done it).
	Refresh Kind = "refresh"
	// RefreshFailed: a refresh of Account's token failed; Reason is the
	// provider's OAuth error code when it gave one.
	RefreshFailed Kind = "refresh-failed"
	// OutOfService: Account needs a new login or was disabled by an
	// answer of its provider.
	OutOfService Kind = "out-of-service"
	// Exhausted: no account of Pool could serve; Until is when the
	// soonest is ready (zero: none will be without an operator).
	Exhausted Kind = "exhausted"
	// Unreadable: Account's record could not be read from the vault;
	// Reason is the error's class ("tampered", "permissions", "missing",
	// "rollback"). The account is skipped.
	Unreadable Kind = "unreadable"
)

// Entry is one event of the log.
type Entry struct {
	// Seq numbers the entries of a vault's log, from 1, increasing.
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Pool is the provider/namespace the event belongs to.
	Pool string `json:"pool"`
	// Account and From are account IDs (provider/namespace/label).
	Account string `json:"account,omitempty"`
	From    string `json:"from,omitempty"`
	// Status is the HTTP status behind the event, when there was one.
	Status int `json:"status,omitempty"`
	// Reason is the provider's error code or the outcome's kind.
	Reason  string    `json:"reason,omitempty"`
	Until   time.Time `json:"until,omitzero"`
	Adopted bool      `json:"adopted,omitempty"`
}

// maxReason bounds an entry's reason; longer ones are cut.
const maxReason = 120

// cleanReason keeps a reason on one line and short: it is drawn in a
// terminal and written in a sealed blob of bounded size.
func cleanReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// label returns the label of the account ID id of the entry's pool, or
// id itself when it is not one of the pool's.
func (e Entry) label(id string) string {
	if l, ok := strings.CutPrefix(id, e.Pool+"/"); ok {
		return l
	}
	return id
}

// Summary describes the event in a few words, without its time and pool:
//
//	work → home (429 rate_limit_error)
//	work cooling 30s (429 rate_limit_error)
//	work token refreshed
//	work token refresh failed (400 invalid_grant)
//	work out of service (401 authentication_error)
//	work unreadable, skipped (tampered)
//	no account can serve; the soonest is ready in 20s
func (e Entry) Summary() string {
	why := e.why()
	switch e.Kind {
	case Rotate:
		return e.label(e.From) + " → " + e.label(e.Account) + why
	case Cooldown:
		s := e.label(e.Account) + " cooling"
		if d := e.Until.Sub(e.Time); d > 0 {
			s += " " + Duration(d)
		}
		return s + why
	case Refresh:
		if e.Adopted {
			return e.label(e.Account) + " token refreshed (by another process)"
		}
		return e.label(e.Account) + " token refreshed"
	case RefreshFailed:
		return e.label(e.Account) + " token refresh failed" + why
	case OutOfService:
		return e.label(e.Account) + " out of service" + why
	case Unreadable:
		return e.label(e.Account) + " unreadable, skipped" + why
	case Exhausted:
		if d := e.Until.Sub(e.Time); !e.Until.IsZero() && d > 0 {
			return "no account can serve; the soonest is ready in " + Duration(d)
		}
		return "no account can serve"
	}
	return string(e.Kind) + " " + e.label(e.Account) + why
}

// why is " (STATUS REASON)", or less when either is unknown.
func (e Entry) why() string {
	var parts []string
	if e.Status != 0 {
		parts = append(parts, strconv.Itoa(e.Status))
	}
	if e.Reason != "" && e.Kind != Exhausted {
		parts = append(parts, e.Reason)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, " ") + ")"
}

// Duration formats d for people, rounded up to the second: "45s",
// "3m05s", "2h10m".
func Duration(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return strconv.FormatInt(s/60, 10) + "m" + pad2(s%60) + "s"
	}
	return strconv.FormatInt(s/3600, 10) + "h" + pad2(s%3600/60) + "m"
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
