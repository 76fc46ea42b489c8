package provider

import (
	"errors"

	"golang.org/x/oauth2"
)

// FromRetrieveError turns a golang.org/x/oauth2 *RetrieveError into a
// *TokenError. RetrieveError's own message quotes the whole response
// body, so it must never reach an error string; secrets lists the values
// the request sent, to be cut from the description. Other errors are
// returned unchanged.
func FromRetrieveError(err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if re.ErrorCode == "" {
		if te := parseError(status, re.Body, secrets); te != nil {
			return te
		}
	}
	return &TokenError{Status: status, Code: cleanCode(re.ErrorCode, secrets), Description: cleanText(re.ErrorDescription, secrets)}
}
