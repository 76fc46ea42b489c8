package provider

import (
	"net/http"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
)

// ClassifyError is the Classify of an adapter that reads its provider's
// error answers: a nil response is Transient and a status below 400
// Success; an error status goes to classify with the outcome (Status set,
// for classify to fill in) and up to adapters.MaxErrorBody bytes of the
// body, which is put back for the caller (see adapters.PeekBody). A
// reason that holds a credential is withheld (adapters.ScrubOutcome).
func ClassifyError(resp *http.Response, now time.Time, classify func(o pool.Outcome, resp *http.Response, body []byte, now time.Time) pool.Outcome) pool.Outcome {
	o, body, isError := errorResponse(resp)
	if isError {
		o = classify(o, resp, body, now)
	}
	return adapters.ScrubOutcome(resp, o)
}

// errorResponse settles a nil response (Transient) and a status below
// 400 (Success): both are final (isError false). Otherwise it returns the
// outcome with Status set and the bounded body, put back for the caller.
func errorResponse(resp *http.Response) (o pool.Outcome, body []byte, isError bool) {
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
