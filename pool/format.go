package pool

import "fmt"

// Pools and leases print as what they name, whatever the verb: fmt would
// otherwise walk into the store they hold, and with some verbs past the
// types that redact themselves.

// Format implements fmt.Formatter.
func (p *Pool) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "pool.Pool{%s}", p.key) }

// Format implements fmt.Formatter.
func (l *Lease) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "pool.Lease{%s acquired %s window %d}", l.ID, l.Acquired.Format("15:04:05.000"), l.Window)
}
