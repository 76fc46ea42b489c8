package openai

import (
	"fmt"
	"net/http"

	"github.com/authvault/authvault/records"
)

// Authorize sets the credential on req as "Authorization: Bearer". For an
// API key it adds OpenAI-Organization and OpenAI-Project from
// Meta["organization"] and Meta["project"] when set; for a ChatGPT
// sign-in it adds chatgpt-account-id from rec.OAuth.AccountID when set.
func (a *Adapter) Authorize(req *http.Request, rec *records.Record) error {
	if rec == nil {
		return ErrNoCredential
	}
	switch {
	case rec.Kind == records.KindAPI && rec.API != nil:
		if rec.API.Key.IsZero() {
			return ErrNoCredential
		}
		req.Header.Set("Authorization", "Bearer "+rec.API.Key.Reveal())
		if v := rec.Meta[MetaOrganization]; v != "" {
			req.Header.Set("OpenAI-Organization", v)
		}
		if v := rec.Meta[MetaProject]; v != "" {
			req.Header.Set("OpenAI-Project", v)
		}
	case rec.Kind == records.KindOAuth && rec.OAuth != nil:
		if rec.OAuth.Access.IsZero() {
			return ErrNoCredential
		}
		req.Header.Set("Authorization", "Bearer "+rec.OAuth.Access.Reveal())
		if rec.OAuth.AccountID != "" {
			req.Header.Set(AccountIDHeader, rec.OAuth.AccountID)
		}
	default:
		return fmt.Errorf("%w: %q", ErrUnsupportedKind, rec.Kind)
	}
	return nil
}
