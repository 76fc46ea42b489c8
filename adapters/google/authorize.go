package google

import (
	"fmt"
	"net/http"

	"github.com/authvault/authvault/records"
)

// Authorize sets the credential on req: an API key as x-goog-api-key
// (never in the URL, where logs would keep it); an OAuth access token as
// "Authorization: Bearer", with any x-goog-api-key removed.
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
		req.Header.Set("x-goog-api-key", rec.API.Key.Reveal())
	case rec.Kind == records.KindOAuth && rec.OAuth != nil:
		if rec.OAuth.Access.IsZero() {
			return ErrNoCredential
		}
		req.Header.Del("x-goog-api-key")
		req.Header.Set("Authorization", "Bearer "+rec.OAuth.Access.Reveal())
	default:
		return fmt.Errorf("%w: %q", ErrUnsupportedKind, rec.Kind)
	}
	return nil
}
