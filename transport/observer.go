package transport

import (
	"context"
	"log/slog"
	"time"

	"github.com/authvault/authvault/records"
)

// EventKind says what an Event reports.
type EventKind int

// The events.
const (
	// EventAttempt: a request is about to be sent with Account.
	EventAttempt EventKind = iota
	// EventRotate: the request moves from From to Account.
	EventRotate
	// EventCooldown: Account is cooling down until Until, for Reason.
	EventCooldown
	// EventRefresh: Account's token was refreshed (Adopted: another
	// process or goroutine had already done it), or the refresh failed
	// (Err set).
	EventRefresh
	// EventExhausted: no account can serve; Until is when the soonest is
	// ready (zero: none will be without an operator).
	EventExhausted
	// EventDisabled: Account needs re-authentication or was disabled, for
	// Reason.
	EventDisabled
	// EventUnreadable: Account's record could not be read from the vault;
	// Reason is the error's class (pool.UnreadableClass: "tampered",
	// "permissions", "missing"…). The account is skipped.
	EventUnreadable
)

var eventNames = [...]string{"attempt", "rotate", "cooldown", "refresh", "exhausted", "disabled", "unreadable"}

// String returns the kind's name, as SlogObserver logs it.
func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one thing the transport did, given to the observers
// (WithObserver) on the request's goroutine. It holds no secret: accounts are
// named by their IDs, reasons are provider error codes.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Method  string
	Host    string
	Account records.ID
	From    records.ID // for EventRotate
	Attempt int        // 1 for the first upstream request of a RoundTrip
	Status  int
	Reason  string
	Until   time.Time
	Adopted bool  // for EventRefresh
	Err     error // for a failed EventRefresh
	// Context is the context of the request the event belongs to, so
	// that an observer serving many requests at once (a gateway) can
	// tell them apart by a value it put there. It is never logged.
	Context context.Context
}

// SlogObserver logs events to l: attempts at debug level, rotations,
// cooldowns and refreshes at info, exhaustion and failed refreshes at
// warn. It logs account IDs, statuses and reasons, never a credential.
// Give it to WithObserver.
func SlogObserver(l *slog.Logger) func(Event) {
	return func(e Event) { logEvent(l, e) }
}

func logEvent(l *slog.Logger, e Event) {
	level := slog.LevelInfo
	attrs := []slog.Attr{slog.String("account", e.Account.String())}
	switch e.Kind {
	case EventAttempt:
		level = slog.LevelDebug
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.String("method", e.Method), slog.String("host", e.Host))
	case EventRotate:
		attrs = append(attrs, slog.String("from", e.From.String()), slog.Int("status", e.Status), slog.String("reason", e.Reason))
	case EventCooldown:
		attrs = append(attrs, slog.Time("until", e.Until), slog.String("reason", e.Reason), slog.Int("status", e.Status))
	case EventRefresh:
		attrs = append(attrs, slog.Bool("adopted", e.Adopted))
		if e.Err != nil {
			level = slog.LevelWarn
			attrs = append(attrs, slog.String("error", e.Err.Error()))
		}
	case EventExhausted:
		level = slog.LevelWarn
		attrs = attrs[:0]
		if !e.Until.IsZero() {
			attrs = append(attrs, slog.Time("ready_at", e.Until))
		}
		attrs = append(attrs, slog.String("reason", e.Reason))
	case EventDisabled:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("reason", e.Reason), slog.Int("status", e.Status))
	case EventUnreadable:
		level = slog.LevelError
		attrs = append(attrs, slog.String("reason", e.Reason))
	}
	l.LogAttrs(context.Background(), level, "authvault "+e.Kind.String(), attrs...)
}
