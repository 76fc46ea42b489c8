package migrate

import (
	"net/url"
	"strings"

	"github.com/authvault/authvault/records"
)

// parseQwenCode parses Qwen Code's ~/.qwen/oauth_creds.json:
//
//	{"access_token", "refresh_token", "token_type", "resource_url", "expiry_date": <ms>}
//
// into one qwen OAuth record labelled "qwen-code" (the file names no
// account), with Meta "resource_url": the host (or https URL) of the
// account's API, which the adapter sends requests to. access_token and
// refresh_token are required.
func parseQwenCode(path string, data []byte) ([]Found, []Problem) {
	return parseDoc(SourceQwenCode, path, data, func(c *checker, root object, _ []string) []Found {
		oauth := &records.OAuth{
			Access:  c.secret(root, "", "access_token", true),
			Refresh: c.secret(root, "", "refresh_token", true),
			Expiry:  c.millis(root, "", "expiry_date", false),
		}
		c.str(root, "", "token_type", false)
		resource := c.str(root, "", "resource_url", false)
		if resource != "" {
			if err := checkResourceURL(resource); err != nil {
				c.fail("resource_url", err)
			}
		}
		if len(c.errs) > 0 {
			return nil
		}
		rec := oauthRecord("qwen", SourceQwenCode, oauth, meta("resource_url", resource))
		return []Found{{Record: rec}}
	})
}

// checkResourceURL accepts a host[:port] or an https URL without user
// info, query or fragment: the adapter sends the account's token there,
// so anything unusual is refused rather than guessed at.
func checkResourceURL(s string) error {
	raw := s
	if !strings.Contains(s, "://") {
		raw = "https://" + s
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return reason(ErrInvalidValue, "want a host or an https URL")
	}
	if _, err := normalizeHost(u.Host); err != nil {
		return err
	}
	return nil
}
