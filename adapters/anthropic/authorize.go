package anthropic

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// Authorize sets the credential on req: an API key as x-api-key; an OAuth
// access token as "Authorization: Bearer", with x-api-key removed and
// OAuthBeta appended to the caller's anthropic-beta flags. It sets
// anthropic-version only when the caller did not. A request addressed to
// DefaultBaseURL is re-pointed at the account's own base URL
// (Meta["base_url"]) when it has one.
func (a *adapter) Authorize(req *http.Request, rec *records.Record) error {
	apiKey, err := provider.SetCredential(req.Header, rec, "x-api-key")
	if err != nil {
		return fmt.Errorf("%s: %w", ProviderID, err)
	}
	if !apiKey {
		appendBeta(req.Header, OAuthBeta)
	}
	if req.Header.Get("anthropic-version") == "" {
		req.Header.Set("anthropic-version", a.apiVersion)
	}
	return provider.RebaseAccount(req, rec, defaultBase)
}

// defaultBase is DefaultBaseURL, which requests are re-pointed from.
var defaultBase, _ = url.Parse(DefaultBaseURL)

var defaultOrigins = []adapters.Origin{adapters.OriginOf(defaultBase)}

// Origins returns https://api.anthropic.com and the origin of the
// account's own base URL (Meta["base_url"]) when it has one.
func (a *adapter) Origins(rec *records.Record) []adapters.Origin {
	return adapters.AccountOrigins(rec, defaultOrigins)
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
