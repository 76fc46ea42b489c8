package eventlog

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
)

// writeDelay is how long the writer waits for more events before a
// write: a burst of rotations becomes one write, and a reader polling
// once a second still sees an event within about a second.
const writeDelay = 100 * time.Millisecond

// writeTimeout bounds one write, the wait for the vault lock included.
const writeTimeout = 10 * time.Second

// Log queues the events of the transports it observes and writes them,
// behind, to the vault's event log. It is safe for concurrent use.
type Log struct {
	store *vault.Vault
	pool  string

	mu      sync.Mutex
	queue   []Entry
	running bool          // a writer goroutine runs
	done    chan struct{} // closed when it ends
	wake    chan struct{} // cuts its delay short
	err     error         // the last write's

	writeMu sync.Mutex // one write at a time

	// after is time.After; tests wait on a clock of their own.
	after func(time.Duration) <-chan time.Time
}

// New returns a log writing to v's event log. key is the pool of the
// transport it observes: events that name no account (Exhausted) are
// filed under it.
func New(v *vault.Vault, key pool.Key) *Log {
	return &Log{store: v, pool: key.String(), wake: make(chan struct{}, 1), after: time.After}
}

// Observe queues e, unless it is an attempt (those are not logged). It
// never waits for storage: when the writer falls behind, the oldest
// queued events are dropped, and at most the last Max of a queue are
// written.
func (l *Log) Observe(e transport.Event) {
	if e.Kind == transport.EventAttempt {
		return
	}
	en, ok := l.entry(e)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queue = append(l.queue, en)
	if len(l.queue) >= 2*Max {
		// Dropped in bulk, so that a writer that cannot keep up costs
		// each event a constant time.
		l.queue = append(l.queue[:0:0], l.queue[len(l.queue)-Max:]...)
	}
	if !l.running {
		l.running = true
		l.done = make(chan struct{})
		go l.writer(l.done)
	}
}

func (l *Log) entry(e transport.Event) (Entry, bool) {
	en := Entry{Time: e.Time.Round(0).UTC(), Pool: l.pool, Status: e.Status, Reason: cleanReason(e.Reason), Until: e.Until.Round(0).UTC()}
	if e.Account != (records.ID{}) {
		en.Account = e.Account.String()
		en.Pool = pool.KeyOf(e.Account).String()
	}
	switch e.Kind {
	case transport.EventRotate:
		en.Kind, en.From = Rotate, e.From.String()
	case transport.EventCooldown:
		en.Kind = Cooldown
	case transport.EventRefresh:
		en.Kind, en.Adopted = Refresh, e.Adopted
		if e.Err != nil {
			// The code and status only: an error's text may quote a body.
			en.Kind, en.Adopted, en.Reason = RefreshFailed, false, "error"
			var re *adapters.RefreshError
			if errors.As(e.Err, &re) {
				en.Status = re.Status
				if re.Code != "" {
					en.Reason = cleanReason(re.Code)
				}
			}
		}
	case transport.EventDisabled:
		en.Kind = OutOfService
	case transport.EventUnreadable:
		en.Kind = Unreadable
	case transport.EventExhausted:
		en.Kind, en.Reason = Exhausted, ""
	default:
		return Entry{}, false
	}
	if en.Time.IsZero() {
		en.Time = time.Now().UTC()
	}
	return en, true
}

// writer writes the queue after a short delay, until it is empty or a
// write fails (the next event or Close tries again).
func (l *Log) writer(done chan struct{}) {
	defer close(done)
	for {
		select {
		case <-l.after(writeDelay):
		case <-l.wake:
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		err := l.write(ctx)
		cancel()
		l.mu.Lock()
		if err != nil || len(l.queue) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
	}
}

// write appends the queue to the log under the vault lock.
func (l *Log) write(ctx context.Context) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	batch := l.queue
	l.queue = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	_, err := l.store.UpdateState(ctx, StateName, func(old []byte) ([]byte, error) {
		d := &document{V: version, Entries: []Entry{}}
		if len(old) > 0 {
			got, err := decode(old)
			if errors.Is(err, ErrNewer) {
				return nil, err
			}
			if err == nil {
				d = got
			}
			// A corrupt log is replaced: it is an observation.
		}
		if n := len(batch) - Max; n > 0 {
			batch = batch[n:]
		}
		d.append(batch)
		return d.encode()
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
	if err != nil {
		// Back in front of what came since, still bounded.
		l.queue = append(batch, l.queue...)
		if n := len(l.queue) - Max; n > 0 {
			l.queue = append(l.queue[:0:0], l.queue[n:]...)
		}
	}
	return err
}

// lastErr returns the last write's error, nil when it succeeded.
func (l *Log) lastErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close writes the queued events and waits for the writer to end. The
// log may still be used: later events start a writer again.
func (l *Log) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	err := l.write(ctx)
	l.mu.Lock()
	running, done := l.running, l.done
	l.mu.Unlock()
	if running {
		select {
		case l.wake <- struct{}{}:
		default:
		}
		<-done
	}
	if err == nil {
		err = l.lastErr()
	}
	return err
}
