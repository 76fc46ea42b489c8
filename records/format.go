package records

import (
	"fmt"
	"strconv"
)

// Records and their credential sections print without their secrets
// whatever the verb. Secret redacts itself, but fmt cannot call it for every
// verb: with a verb it does not accept for a pointer (%s, %q…) it prints the
// pointed-to struct with Format methods disabled. So these types format
// themselves, and print only what is not secret.

// Format implements fmt.Formatter.
func (r Record) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "records.Record{Provider:%q, Namespace:%q, Label:%q, Kind:%q, Generation:%d, credential:%q}",
			r.Provider, r.Namespace, r.Label, r.Kind, r.Generation, Redacted)
		return
	}
	b := []byte("{")
	b = append(b, r.Provider...)
	b = append(b, '/')
	b = append(b, r.Namespace...)
	b = append(b, '/')
	b = append(b, r.Label...)
	b = append(b, ' ')
	b = append(b, r.Kind...)
	b = append(b, " gen="...)
	b = strconv.AppendUint(b, r.Generation, 10)
	if len(r.Meta) > 0 {
		b = append(b, " meta="...)
		b = fmt.Append(b, r.Meta)
	}
	b = append(b, " credential="...)
	b = append(b, Redacted...)
	b = append(b, '}')
	_, _ = f.Write(b)
}

// Format implements fmt.Formatter.
func (o OAuth) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{access:%s refresh:%s expiry:%s account:%s scopes:%v client:%s}",
		Redacted, Redacted, o.Expiry.Format("2006-01-02T15:04:05Z07:00"), o.AccountID, o.Scopes, o.ClientID)
}

// Format implements fmt.Formatter.
func (APIKey) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "{key:%s}", Redacted) }

// Format implements fmt.Formatter.
func (w WellKnown) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "{key:%s token:%s}", w.Key, Redacted) }
