package credential

import (
	"fmt"
	"net/http"

	"github.com/authvault/authvault/records"
)

// Of returns the secret Authorize sends for rec: its API key (apiKey set)
// or its OAuth access token. A nil record or an empty secret is errNone;
// a record of any other kind is errKind, with the kind named.
func Of(rec *records.Record, errNone, errKind error) (secret records.Secret, apiKey bool, err error) {
	switch {
	case rec == nil:
		return "", false, errNone
	case rec.Kind == records.KindAPI && rec.API != nil:
		secret, apiKey = rec.API.Key, true
	case rec.Kind == records.KindOAuth && rec.OAuth != nil:
		secret = rec.OAuth.Access
	default:
		return "", false, fmt.Errorf("%w: %q", errKind, rec.Kind)
	}
	if secret.IsZero() {
		return "", false, errNone
	}
	return secret, apiKey, nil
}

// Send puts secret on h: an API key in keyHeader, an OAuth access token
// as "Authorization: Bearer". The header of the other kind is removed, so
// that a request carries one credential only.
func Send(h http.Header, keyHeader string, secret records.Secret, apiKey bool) {
	if apiKey {
		h.Del("Authorization")
		h.Set(keyHeader, secret.Reveal())
		return
	}
	h.Del(keyHeader)
	h.Set("Authorization", "Bearer "+secret.Reveal())
}

// APIKeyRecord returns an API-key record of provider in the default
// namespace, ready for the vault (which sets Created, Updated and
// Generation).
func APIKeyRecord(provider, label, key string) *records.Record {
	return &records.Record{
		Provider:  provider,
		Namespace: records.DefaultNamespace,
		Label:     label,
		Kind:      records.KindAPI,
		API:       &records.APIKey{Key: records.Secret(key)},
	}
}
