package openai

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Authorize sets the credential on req as "Authorization: Bearer". For an
// API key it adds OpenAI-Organization and OpenAI-Project from
// Meta["organization"] and Meta["project"] when set; for a ChatGPT
// sign-in it adds chatgpt-account-id from rec.OAuth.AccountID when set. A
// request addressed to DefaultBaseURL's origin is re-pointed at the
// account's own base URL (Meta["base_url"]) when it has one.
func (a *adapter) Authorize(req *http.Request, rec *records.Record) error {
	apiKey, err := provider.SetCredential(req.Header, rec, "")
	if err != nil {
		return fmt.Errorf("%s: %w", ProviderID, err)
	}
	if apiKey {
		if v := rec.Meta[MetaOrganization]; v != "" {
			req.Header.Set("OpenAI-Organization", v)
		}
		if v := rec.Meta[MetaProject]; v != "" {
			req.Header.Set("OpenAI-Project", v)
		}
	} else if rec.OAuth.AccountID != "" {
		req.Header.Set(AccountIDHeader, rec.OAuth.AccountID)
	}
	return provider.RebaseAccount(req, rec, defaultBase)
}

// defaultBase is DefaultBaseURL, which requests are re-pointed from.
var defaultBase, _ = url.Parse(DefaultBaseURL)

var (
	keyOrigins   = []adapters.Origin{adapters.OriginOf(defaultBase)}
	oauthOrigins = []adapters.Origin{adapters.OriginOf(defaultBase), "https://chatgpt.com"}
)

// Origins returns https://api.openai.com, https://chatgpt.com for a
// ChatGPT sign-in (OAuth record), and the origin of the account's own
// base URL (Meta["base_url"]) when it has one.
func (a *adapter) Origins(rec *records.Record) []adapters.Origin {
	if rec.Kind == records.KindOAuth {
		return adapters.AccountOrigins(rec, oauthOrigins)
	}
	return adapters.AccountOrigins(rec, keyOrigins)
}
