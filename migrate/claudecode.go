package migrate

import (
	"github.com/authvault/authvault/records"
)

// parseClaudeCode parses Claude Code's ~/.claude/.credentials.json:
//
//	{"claudeAiOauth": {"accessToken": …, "refreshToken": …, "expiresAt": <ms>,
//	                   "scopes": […], "subscriptionType": …, …}}
//
// into one anthropic OAuth record with Meta "plan" = subscriptionType.
// accessToken and refreshToken are required. The file names no account,
// so the label is "claude-code". Fields not listed are ignored.
func parseClaudeCode(path string, data []byte) ([]Found, []Problem) {
	return parseDoc(SourceClaudeCode, path, data, func(c *checker, root object, _ []string) []Found {
		o, p := c.object(root, "", "claudeAiOauth", true)
		if o == nil {
			return nil
		}
		n := len(c.errs)
		oauth := &records.OAuth{
			Access:  c.secret(o, p, "accessToken", true),
			Refresh: c.secret(o, p, "refreshToken", true),
			Expiry:  c.millis(o, p, "expiresAt", false),
			Scopes:  c.strList(o, p, "scopes"),
		}
		plan := c.str(o, p, "subscriptionType", false)
		if len(c.errs) > n {
			return nil
		}
		if len(oauth.Scopes) == 0 {
			oauth.Scopes = nil
		}
		rec := oauthRecord("anthropic", SourceClaudeCode, oauth, meta("plan", plan))
		return []Found{{Record: rec}}
	})
}
