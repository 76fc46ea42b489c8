package migrate

import (
	"time"

	"github.com/authvault/authvault/records"
)

// openAIAuthClaim is the id token claim in which OpenAI puts the ChatGPT
// account id and plan.
const openAIAuthClaim = "https://api.openai.com/auth"

// parseCodex parses Codex's $CODEX_HOME/auth.json:
//
//	{"auth_mode": …, "OPENAI_API_KEY": <string or null>,
//	 "tokens": {"id_token", "access_token", "refresh_token", "account_id"} or null,
//	 "last_refresh": <RFC 3339>}
//
// tokens give an openai OAuth record; the id token's payload (decoded, not
// verified: it only names the account) supplies the label ("email"
// claim), the account id when tokens.account_id is absent, and Meta
// "email" and "plan" (claim "https://api.openai.com/auth":
// chatgpt_account_id, chatgpt_plan_type). The expiry is the access
// token's "exp" claim when it is a JWT. OPENAI_API_KEY gives an openai
// API record, labelled like the OAuth one plus "-api" when both are
// present. last_refresh becomes Found.Modified.
func parseCodex(path string, data []byte) ([]Found, []Problem) {
	return parseDoc(SourceCodex, path, data, func(c *checker, root object, _ []string) []Found {
		c.str(root, "", "auth_mode", false) // checked, not needed: the fields present say which mode
		apiKey := c.secret(root, "", "OPENAI_API_KEY", false)
		var modified time.Time
		if s := c.str(root, "", "last_refresh", false); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				c.fail("last_refresh", reason(ErrInvalidValue, "want an RFC 3339 time"))
			}
			modified = t.UTC()
		}
		tokens, tp := c.object(root, "", "tokens", false)
		var oauth *records.OAuth
		var claims object
		if tokens != nil {
			oauth = &records.OAuth{
				IDToken:   c.secret(tokens, tp, "id_token", true),
				Access:    c.secret(tokens, tp, "access_token", true),
				Refresh:   c.secret(tokens, tp, "refresh_token", true),
				AccountID: c.str(tokens, tp, "account_id", false),
			}
			if oauth.IDToken != "" {
				cl, err := jwtClaims(oauth.IDToken.Reveal())
				if err != nil {
					c.fail(joinPath(tp, "id_token"), err)
				}
				claims = cl
			}
		}
		if len(c.errs) > 0 {
			return nil
		}
		if oauth == nil && apiKey == "" {
			c.fail("", reason(ErrMissing, "neither tokens nor OPENAI_API_KEY"))
			return nil
		}
		email := claimText(claims, "email")
		auth := claimObject(claims, openAIAuthClaim)
		var found []Found
		base := SourceCodex
		if oauth != nil {
			if oauth.AccountID == "" {
				oauth.AccountID = claimText(auth, "chatgpt_account_id")
			}
			// Access tokens are JWTs today; when one is not, the expiry
			// stays unknown and the adapter refreshes on the first 401.
			if ac, err := jwtClaims(oauth.Access.Reveal()); err == nil {
				oauth.Expiry = claimTime(ac, "exp")
			}
			base = label(SourceCodex, email, oauth.AccountID)
			m := meta("email", email, "plan", claimText(auth, "chatgpt_plan_type"))
			found = append(found, Found{Record: oauthRecord("openai", base, oauth, m), Modified: modified})
		}
		if apiKey != "" {
			l := base
			if oauth != nil {
				l = label(SourceCodex+"-api", base+"-api")
			}
			found = append(found, Found{Record: &records.Record{
				Provider: "openai", Namespace: records.DefaultNamespace, Label: l,
				Kind: records.KindAPI, API: &records.APIKey{Key: apiKey}, Meta: meta("email", email),
			}, Modified: modified})
		}
		return found
	})
}
