package provider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// maxJWT bounds a token handed to DecodeJWTPayload.
const maxJWT = 64 << 10

// DecodeJWTPayload decodes the payload (claims) of a compact JWT into v
// WITHOUT verifying its signature. It is only for reading facts about an
// account (email, account id, plan, expiry) from a token that the caller
// received straight from the issuer's token endpoint over TLS (OpenID
// Connect Core §3.1.3.7 allows TLS to stand in for the signature there)
// or from the user's own credential file; never for an authorization
// decision. Errors do not quote the token.
func DecodeJWTPayload(token string, v any) error {
	if len(token) > maxJWT {
		return fmt.Errorf("%w: longer than %d bytes", ErrMalformedJWT, maxJWT)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: %d segments, want 3", ErrMalformedJWT, len(parts))
	}
	seg := strings.TrimRight(parts[1], "=")
	payload, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return fmt.Errorf("%w: payload is not base64url", ErrMalformedJWT)
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("%w: payload is not the expected JSON object", ErrMalformedJWT)
	}
	return nil
}
