// Package hint turns the rate-limit and quota signals that providers send
// (reset timestamps, Go-style durations, unix seconds, "retry in 4.5s"
// phrases) into the absolute time an account may be used again.
//
// Every parser here is strict about the form it accepts and conservative
// about what it returns: a malformed, negative or overflowing value is
// reported as absent (ok == false), so the pool falls back to its own
// backoff; a value in the past means "now"; a value further out than
// pool.MaxRetryAfter is capped to it. No parser panics on any input.
//
// Adapters begin Classify with ErrorResponse, which settles successes and
// hands over the bounded error body; they call the parser matching the
// documented format of each signal and then Earliest or Latest to combine
// several. Code sanitizes an error code from a response body before it
// becomes an Outcome.Reason.
package hint
