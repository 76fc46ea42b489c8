package openai

import (
	"math"
	"time"

	"github.com/authvault/authvault/adapters/provider"
)

// claims are the facts authvault reads from an OpenAI id token.
type claims struct {
	// AccountID is the ChatGPT account (workspace) id, sent as
	// chatgpt-account-id.
	AccountID string
	// PlanType is the ChatGPT plan (free, plus, pro, team…).
	PlanType string
	// Email is the account's email.
	Email string
	// Expiry is the token's exp claim, zero when absent.
	Expiry time.Time
}

type idTokenPayload struct {
	Email string   `json:"email"`
	Exp   *float64 `json:"exp"`
	Auth  struct {
		AccountID string `json:"chatgpt_account_id"`
		PlanType  string `json:"chatgpt_plan_type"`
	} `json:"https://api.openai.com/auth"`
	Profile struct {
		Email string `json:"email"`
	} `json:"https://api.openai.com/profile"`
}

// parseIDToken decodes an OpenAI id token's payload WITHOUT verifying its
// signature. That is sound for what authvault does with it: the token
// comes straight from the issuer's token endpoint over TLS (OpenID
// Connect Core §3.1.3.7), or from a credential file the user owns, and
// the claims only label the account and route requests to the account
// the token already belongs to; the API checks the access token itself.
// Never use the claims to grant anything. Errors wrap
// provider.ErrMalformedJWT and do not quote the token.
func parseIDToken(idToken string) (claims, error) {
	var p idTokenPayload
	if err := provider.DecodeJWTPayload(idToken, &p); err != nil {
		return claims{}, err
	}
	c := claims{AccountID: p.Auth.AccountID, PlanType: p.Auth.PlanType, Email: p.Email}
	if c.Email == "" {
		c.Email = p.Profile.Email
	}
	if p.Exp != nil && *p.Exp > 0 && *p.Exp < math.MaxInt32*4 {
		c.Expiry = time.Unix(int64(*p.Exp), 0).UTC()
	}
	return c, nil
}

// tokenExpiry reads the exp claim of a JWT access token, zero when the
// token is not a JWT or has none.
func tokenExpiry(token string) time.Time {
	c, err := parseIDToken(token)
	if err != nil {
		return time.Time{}
	}
	return c.Expiry
}
