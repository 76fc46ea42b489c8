package provider

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/authvault/authvault/records"
)

// credentialOf returns the secret Authorize sends for rec: its API key
// (apiKey set) or its OAuth access token. A nil record or an empty secret
// is ErrNoCredential; a record of any other kind is ErrUnsupportedKind,
// with the kind named.
func credentialOf(rec *records.Record) (secret records.Secret, apiKey bool, err error) {
	switch {
	case rec == nil:
		return "", false, ErrNoCredential
	case rec.Kind == records.KindAPI && rec.API != nil:
		secret, apiKey = rec.API.Key, true
	case rec.Kind == records.KindOAuth && rec.OAuth != nil:
		secret = rec.OAuth.Access
	default:
		return "", false, fmt.Errorf("%w: %q", ErrUnsupportedKind, rec.Kind)
	}
	if secret.IsZero() {
		return "", false, ErrNoCredential
	}
	return secret, apiKey, nil
}

// SetCredential puts rec's credential on h, for providers that take API
// keys and OAuth access tokens: an API key in keyHeader, an OAuth access
// token as "Authorization: Bearer". With keyHeader "" an API key is sent
// as a bearer token too. The header of the other kind is removed, so that
// a request carries one credential only. It reports whether the record is
// an API key; a record without a credential is ErrNoCredential, one of
// another kind ErrUnsupportedKind.
func SetCredential(h http.Header, rec *records.Record, keyHeader string) (apiKey bool, err error) {
	secret, apiKey, err := credentialOf(rec)
	if err != nil {
		return false, err
	}
	if apiKey && keyHeader != "" {
		h.Del("Authorization")
		h.Set(keyHeader, secret.Reveal())
		return true, nil
	}
	if keyHeader != "" {
		h.Del(keyHeader)
	}
	h.Set("Authorization", "Bearer "+secret.Reveal())
	return apiKey, nil
}

// SetBearer sets "Authorization: Bearer <tok>" on req. It refuses an empty
// token (ErrNoCredential) and one that cannot be a header value
// (ErrInvalidToken), without naming the token.
func SetBearer(req *http.Request, tok records.Secret) error {
	if tok.IsZero() {
		return ErrNoCredential
	}
	v := tok.Reveal()
	if !validToken(v) {
		return ErrInvalidToken
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header["Authorization"] = []string{"Bearer " + v}
	return nil
}

// validToken reports whether s can follow "Bearer " in a header: no
// control characters, no space or tab.
func validToken(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
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

// AccountID fills in the provider and the default namespace of the
// account id a login is for, and refuses another provider's
// (ErrWrongProvider). It does not validate the label, which a login may
// only learn from the server.
func AccountID(provider string, id records.ID) (records.ID, error) {
	if id.Provider == "" {
		id.Provider = provider
	}
	if id.Namespace == "" {
		id.Namespace = records.DefaultNamespace
	}
	if id.Provider != provider {
		return id, fmt.Errorf("%s: record %s: %w", provider, id, ErrWrongProvider)
	}
	return id, nil
}
