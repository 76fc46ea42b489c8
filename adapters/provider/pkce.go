package provider

import (
	"crypto/rand"
	"encoding/base64"

	"golang.org/x/oauth2"
)

// PKCE is a proof key for code exchange (RFC 7636) with the S256 method.
type PKCE struct {
	// Verifier is sent with the code exchange. It is a secret until then.
	Verifier string
	// Challenge is the S256 hash of Verifier, sent with the authorization request.
	Challenge string
}

// PKCEMethod is the PKCE challenge method: always S256, never plain.
const PKCEMethod = "S256"

// NewPKCE returns a fresh verifier (32 random bytes) and its challenge.
func NewPKCE() PKCE {
	v := oauth2.GenerateVerifier()
	return PKCE{Verifier: v, Challenge: oauth2.S256ChallengeFromVerifier(v)}
}

// newState returns an unguessable state value for one authorization
// request: 32 random bytes, base64url.
func newState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
