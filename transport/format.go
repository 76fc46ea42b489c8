package transport

import "fmt"

// Format implements fmt.Formatter: a Transport prints as the pool it
// serves, never walking into the vault it holds, whatever the verb.
func (t *Transport) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "transport.Transport{%s}", t.pool.Key())
}
