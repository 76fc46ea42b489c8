package migrate

import (
	"strings"

	"github.com/authvault/authvault/records"
)

// parseGeminiCLI parses Gemini CLI's ~/.gemini/oauth_creds.json:
//
//	{"access_token", "refresh_token", "scope", "token_type", "id_token", "expiry_date": <ms>}
//
// into one google OAuth record. access_token and refresh_token are
// required. The id token's payload (decoded, not verified) gives the
// label and Meta "email" ("email" claim) and the account id ("sub");
// without one the label is "gemini-cli". scope is split on spaces.
func parseGeminiCLI(path string, data []byte) ([]Found, []Problem) {
	return parseDoc(SourceGeminiCLI, path, data, func(c *checker, root object, _ []string) []Found {
		oauth := &records.OAuth{
			Access:  c.secret(root, "", "access_token", true),
			Refresh: c.secret(root, "", "refresh_token", true),
			IDToken: c.secret(root, "", "id_token", false),
			Expiry:  c.millis(root, "", "expiry_date", false),
			Scopes:  strings.Fields(c.str(root, "", "scope", false)),
		}
		c.str(root, "", "token_type", false)
		var claims object
		if oauth.IDToken != "" {
			cl, err := jwtClaims(oauth.IDToken.Reveal())
			if err != nil {
				c.fail("id_token", err)
			}
			claims = cl
		}
		if len(c.errs) > 0 {
			return nil
		}
		if len(oauth.Scopes) == 0 {
			oauth.Scopes = nil
		}
		email := claimText(claims, "email")
		oauth.AccountID = claimText(claims, "sub")
		rec := oauthRecord("google", label(SourceGeminiCLI, email, oauth.AccountID), oauth, meta("email", email))
		return []Found{{Record: rec}}
	})
}
