package google

import (
	"net/http"

	"github.com/authvault/authvault/adapters/internal/credential"
	"github.com/authvault/authvault/records"
)

// Authorize sets the credential on req: an API key as x-goog-api-key
// (never in the URL, where logs would keep it); an OAuth access token as
// "Authorization: Bearer", with any x-goog-api-key removed.
func (a *Adapter) Authorize(req *http.Request, rec *records.Record) error {
	secret, apiKey, err := credential.Of(rec, ErrNoCredential, ErrUnsupportedKind)
	if err != nil {
		return err
	}
	credential.Send(req.Header, "x-goog-api-key", secret, apiKey)
	return nil
}
