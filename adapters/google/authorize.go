package google

import (
	"net/http"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/internal/credential"
	"github.com/authvault/authvault/records"
)

// Authorize sets the credential on req: an API key as x-goog-api-key
// (never in the URL, where logs would keep it); an OAuth access token as
// "Authorization: Bearer", with any x-goog-api-key removed. A request
// addressed to DefaultBaseURL's origin is re-pointed at the account's own
// base URL (Meta["base_url"]) when it has one.
func (a *Adapter) Authorize(req *http.Request, rec *records.Record) error {
	secret, apiKey, err := credential.Of(rec, ErrNoCredential, ErrUnsupportedKind)
	if err != nil {
		return err
	}
	credential.Send(req.Header, "x-goog-api-key", secret, apiKey)
	return bearer.RebaseAccount(req, rec, defaultBase)
}

// defaultBase is DefaultBaseURL, which requests are re-pointed from.
var defaultBase = bearer.MustParseBaseURL(DefaultBaseURL)

var (
	keyOrigins   = []adapters.Origin{adapters.OriginOf(defaultBase)}
	oauthOrigins = []adapters.Origin{adapters.OriginOf(defaultBase), adapters.OriginOf(bearer.MustParseBaseURL(CodeAssistBaseURL))}
)

// Origins returns https://generativelanguage.googleapis.com,
// https://cloudcode-pa.googleapis.com for an OAuth record (Code Assist),
// and the origin of the account's own base URL (Meta["base_url"]) when it
// has one.
func (a *Adapter) Origins(rec *records.Record) []adapters.Origin {
	if rec.Kind == records.KindOAuth {
		return adapters.AccountOrigins(rec, oauthOrigins)
	}
	return adapters.AccountOrigins(rec, keyOrigins)
}
