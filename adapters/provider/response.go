package provider

import (
	"net/http"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
)

// ErrorResponse begins a Classify the way every adapter does. A nil
// response is Transient and a status below 400 Success: both are final
// (isError false). Otherwise it returns the outcome with Status set, for
// the adapter to fill in, and up to adapters.MaxErrorBody bytes of the
// body, which is put back for the caller (see adapters.PeekBody).
func ErrorResponse(resp *http.Response) (o pool.Outcome, body []byte, isError bool) {
	if resp == nil {
		return pool.Outcome{Kind: pool.Transient}, nil, false
	}
	o = pool.Outcome{Status: resp.StatusCode}
	if resp.StatusCode < 400 {
		o.Kind = pool.Success
		return o, nil, false
	}
	return o, adapters.PeekBody(resp, adapters.MaxErrorBody), true
}
