package pool

import (
	"fmt"
	"time"
)

// cooldown is one backoff entry of an account, for the whole account
// (model "") or for one model. It outlives its window: Step keeps
// counting escalations until a success resets it.
type cooldown struct {
	Kind   OutcomeKind `json:"kind"` // RateLimited or QuotaExhausted
	Until  time.Time   `json:"until"`
	Step   int         `json:"step"`
	Window uint64      `json:"window"` // the account's window generation that opened it
	Reason string      `json:"reason,omitempty"`
	Status int         `json:"status,omitempty"`
}

// hintFor returns the server's hint capped for kind, or false when there
// is no usable hint (none, or not in the future).
func (c *config) hintFor(kind OutcomeKind, until, now time.Time) (time.Time, bool) {
	if !until.After(now) {
		return time.Time{}, false
	}
	limit := c.rateCap
	if kind == QuotaExhausted {
		limit = c.quotaCap
	}
	if until.Sub(now) > limit {
		return now.Add(limit), true
	}
	return until, true
}

func (c *config) backoffFor(kind OutcomeKind) backoff {
	if kind == QuotaExhausted {
		return c.quota
	}
	return c.rate
}

// applyOutcome records what o means for the account a, evaluated against
// a itself: the same function runs on this process's copy and, under the
// vault lock, on the freshest copy on disk, so two processes blaming one
// account in the same window still escalate it only once.
//
// leaseWindow is the account's window generation when the lease was
// taken; scope is the cooldown key ("" or a model).
func applyOutcome(a *acctState, o Outcome, scope string, leaseWindow uint64, now time.Time, c *config) {
	switch o.Kind {
	case Success:
		for k, cd := range a.Cooldowns {
			// A success on a lease older than the window says nothing
			// about the window: it was sent before the limit hit.
			if (k == "" || k == scope) && cd.Window <= leaseWindow {
				delete(a.Cooldowns, k)
			}
		}
		if len(a.Cooldowns) == 0 {
			a.Cooldowns = nil
		}
		if o.Refreshed {
			a.NeedsReauth, a.ReauthReason = false, ""
		}
		a.Unreadable, a.UnreadableUntil = "", time.Time{}
	case RecordUnreadable:
		a.Unreadable = o.Reason
		if a.Unreadable == "" {
			a.Unreadable = "error"
		}
		a.UnreadableUntil = now.Add(UnreadableRecheck)
	case RateLimited, QuotaExhausted:
		coolDown(a, o, scope, leaseWindow, now, c)
	case NeedsReauth:
		a.NeedsReauth = true
		a.ReauthReason = reasonOr(o, "re-authentication needed")
	case Fatal:
		a.Disabled = true
		a.DisabledReason = reasonOr(o, "refused by the provider")
	}
}

// outcomeOp is applyOutcome on the account labelled label, if the state
// has it: one closure per outcome, where accountOp would make two.
func outcomeOp(label string, o Outcome, scope string, leaseWindow uint64, now time.Time, c *config) op {
	return func(s *state) {
		if a := s.Accounts[label]; a != nil {
			applyOutcome(a, o, scope, leaseWindow, now, c)
		}
	}
}

func coolDown(a *acctState, o Outcome, scope string, leaseWindow uint64, now time.Time, c *config) {
	hint, hasHint := c.hintFor(o.Kind, o.Until, now)
	cd := a.Cooldowns[scope]
	if cd != nil && cd.Window > leaseWindow {
		// The lease was taken before this window opened: its 429 is the
		// same burst that opened it. Never escalate on it; only a later
		// server hint extends the window, and an exhausted quota
		// replaces a plain rate limit.
		if !(o.Kind == QuotaExhausted && cd.Kind == RateLimited) {
			if hasHint && hint.After(cd.Until) {
				cd.Until = hint
			}
			return
		}
	}
	step := 1
	if cd != nil && cd.Kind == o.Kind {
		step = cd.Step + 1
	}
	until := hint
	if !hasHint {
		until = now.Add(c.backoffFor(o.Kind).delay(step))
	}
	if cd != nil && cd.Until.After(until) {
		until = cd.Until // never shorten a window still open
	}
	a.Windows++
	if cd == nil {
		if a.Cooldowns == nil {
			a.Cooldowns = map[string]*cooldown{}
		}
		cd = new(cooldown)
		a.Cooldowns[scope] = cd
	}
	*cd = cooldown{Kind: o.Kind, Until: until, Step: step, Window: a.Windows, Reason: o.Reason, Status: o.Status}
}

func reasonOr(o Outcome, def string) string {
	switch {
	case o.Reason != "" && o.Status != 0:
		return fmt.Sprintf("%s (HTTP %d)", o.Reason, o.Status)
	case o.Reason != "":
		return o.Reason
	case o.Status != 0:
		return fmt.Sprintf("%s (HTTP %d)", def, o.Status)
	}
	return def
}

// changesState reports whether o would change a's persisted state (and
// so must be written at once), as opposed to only counting.
func changesState(a *acctState, o Outcome, scope string, leaseWindow uint64) bool {
	switch o.Kind {
	case RateLimited, QuotaExhausted, NeedsReauth, Fatal, RecordUnreadable:
		return true
	case Success:
		if o.Refreshed && a.NeedsReauth || a.Unreadable != "" {
			return true
		}
		for k, cd := range a.Cooldowns {
			if (k == "" || k == scope) && cd.Window <= leaseWindow {
				return true
			}
		}
	}
	return false
}
