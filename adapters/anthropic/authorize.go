package anthropic

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/authvault/authvault/records"
)

// Authorize sets the credential on req: an API key as x-api-key; an OAuth
// access token as "Authorization: Bearer", with x-api-key removed and
// OAuthBeta appended to the caller's anthropic-beta flags. It sets
// anthropic-version only when the caller did not.
func (a *Adapter) Authorize(req *http.Request, rec *records.Record) error {
	if rec == nil {
		return ErrNoCredential
	}
	switch {
	case rec.Kind == records.KindAPI && rec.API != nil:
		if rec.API.Key.IsZero() {
			return ErrNoCredential
		}
		req.Header.Del("Authorization")
		req.Header.Set("x-api-key", rec.API.Key.Reveal())
	case rec.Kind == records.KindOAuth && rec.OAuth != nil:
		if rec.OAuth.Access.IsZero() {
			return ErrNoCredential
		}
		req.Header.Del("x-api-key")
		req.Header.Set("Authorization", "Bearer "+rec.OAuth.Access.Reveal())
		appendBeta(req.Header, OAuthBeta)
	default:
		return fmt.Errorf("%w: %q", ErrUnsupportedKind, rec.Kind)
	}
	if req.Header.Get("anthropic-version") == "" {
		req.Header.Set("anthropic-version", a.apiVersion)
	}
	return nil
}

// appendBeta merges every anthropic-beta value (repeated headers and
// comma lists) into one comma list that ends with flag, unless flag is
// already there.
func appendBeta(h http.Header, flag string) {
	var flags []string
	have := false
	for _, line := range h.Values("anthropic-beta") {
		for _, f := range strings.Split(line, ",") {
			f = strings.TrimSpace(f)
			if f == "" || f == flag && have {
				continue
			}
			have = have || f == flag
			flags = append(flags, f)
		}
	}
	if !have {
		flags = append(flags, flag)
	}
	h.Set("anthropic-beta", strings.Join(flags, ","))
}
