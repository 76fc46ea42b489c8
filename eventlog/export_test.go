package eventlog

import "time"

// SetAfter makes l's writer wait on after instead of time.After.
func SetAfter(l *Log, after func(time.Duration) <-chan time.Time) { l.after = after }

// WriterDone returns the channel closed when l's running writer ends,
// nil when none runs.
func WriterDone(l *Log) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.running {
		return nil
	}
	return l.done
}

// WriteDelay is how long the writer waits for more events.
const WriteDelay = writeDelay
