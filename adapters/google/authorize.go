package google

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Authorize sets the credential on req: an API key as x-goog-api-key
// (never in the URL, where logs would keep it); an OAuth access token as
// "Authorization: Bearer", with any x-goog-api-key removed. A request
// addressed to DefaultBaseURL's origin is re-pointed at the account's own
// base URL (Meta["base_url"]) when it has one.
func (a *adapter) Authorize(req *http.Request, rec *records.Record) error {
	if _, err := provider.SetCredential(req.Header, rec, "x-goog-api-key"); err != nil {
		return fmt.Errorf("%s: %w", ProviderID, err)
	}
	return provider.RebaseAccount(req, rec, defaultBase)
}

// defaultBase is DefaultBaseURL, which requests are re-pointed from.
var defaultBase, _ = url.Parse(DefaultBaseURL)

var codeAssistBase, _ = url.Parse(CodeAssistBaseURL)

var (
	keyOrigins   = []adapters.Origin{adapters.OriginOf(defaultBase)}
	oauthOrigins = []adapters.Origin{adapters.OriginOf(defaultBase), adapters.OriginOf(codeAssistBase)}
)

// Origins returns https://generativelanguage.googleapis.com,
// https://cloudcode-pa.googleapis.com for an OAuth record (Code Assist),
// and the origin of the account's own base URL (Meta["base_url"]) when it
// has one.
func (a *adapter) Origins(rec *records.Record) []adapters.Origin {
	if rec.Kind == records.KindOAuth {
		return adapters.AccountOrigins(rec, oauthOrigins)
	}
	return adapters.AccountOrigins(rec, keyOrigins)
}
