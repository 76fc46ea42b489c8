package oauthtest

import (
	"encoding/base64"
	"encoding/json"
)

// JWT returns an unsigned compact JWT whose payload is claims marshalled
// as JSON, as an issuer's token looks to a reader that does not verify
// it.
func JWT(claims any) string {
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(b) + ".c2lnbmF0dXJl"
}
