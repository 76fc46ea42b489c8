package adapters

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// credentialHeaders are the request headers that carry a credential in the
// providers authvault knows.
var credentialHeaders = []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "Api-Key", "Proxy-Authorization"}

// WithheldReason replaces an outcome reason that held a credential.
const WithheldReason = "provider_error"

// ScrubOutcome drops a reason that holds a credential the request sent: a
// broken or hostile provider may echo the key it was given as its error
// "code" or "type", and reasons are logged and shown to operators. Every
// adapter's Classify ends with it.
func ScrubOutcome(resp *http.Response, o pool.Outcome) pool.Outcome {
	if o.Reason == "" || resp == nil {
		return o
	}
	if requestHolds(resp.Request, o.Reason) {
		o.Reason = WithheldReason
	}
	return o
}

// requestHolds reports whether s contains a credential req sent: the
// value of a credential header, that value without its auth scheme (such
// as "Bearer "), or a "key" query parameter, of 4 bytes or more. It makes
// no list: every failed response's reason is checked.
func requestHolds(req *http.Request, s string) bool {
	if req == nil || len(s) < 4 {
		return false
	}
	in := func(v string) bool { return len(v) >= 4 && strings.Contains(s, v) }
	for _, h := range credentialHeaders {
		for _, v := range req.Header[h] { // the names are canonical
			if in(v) {
				return true
			}
			if _, tok, ok := strings.Cut(v, " "); ok && in(strings.TrimSpace(tok)) {
				return true
			}
		}
	}
	return req.URL != nil && strings.Contains(req.URL.RawQuery, "key") && in(req.URL.Query().Get("key"))
}

// RecordCredentials returns the record's credential values (those of at
// least 4 bytes).
func RecordCredentials(rec *records.Record) []string {
	if rec == nil {
		return nil
	}
	var out []string
	for _, v := range rec.Secrets() {
		if r := v.Reveal(); len(r) >= 4 {
			out = append(out, r)
		}
	}
	return out
}

// RecordHolds reports whether s contains one of RecordCredentials(rec),
// without making the list.
func RecordHolds(rec *records.Record, s string) bool {
	if rec == nil {
		return false
	}
	for _, v := range rec.Secrets() {
		if r := v.Reveal(); len(r) >= 4 && strings.Contains(s, r) {
			return true
		}
	}
	return false
}

// holdsAny reports whether s contains any of secrets.
func holdsAny(s string, secrets []string) bool {
	for _, v := range secrets {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// withheld replaces an error's details that held a credential.
var errWithheld = errors.New("details withheld: they held a credential")

// ScrubRefreshError returns err, or a copy without the parts that hold one
// of secrets (a token endpoint may echo the refresh token it was sent as
// its error code): a *RefreshError keeps its provider, status and
// permanence; any other error is replaced by a plain one. Refresh
// implementations and the transport pass every refresh failure through it.
func ScrubRefreshError(err error, secrets []string) error {
	if err == nil || !holdsAny(err.Error(), secrets) {
		return err
	}
	var re *RefreshError
	if !errors.As(err, &re) {
		return errWithheld
	}
	c := *re
	if holdsAny(c.Code, secrets) {
		c.Code = WithheldReason
	}
	if c.Err != nil && holdsAny(c.Err.Error(), secrets) {
		c.Err = errWithheld
	}
	if holdsAny(c.Error(), secrets) {
		return &RefreshError{Provider: re.Provider, Status: re.Status, Permanent: re.Permanent, Code: WithheldReason}
	}
	return &c
}
