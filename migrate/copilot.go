package migrate

import (
	"strings"

	"github.com/authvault/authvault/records"
)

// parseCopilot parses GitHub Copilot's ~/.config/github-copilot/hosts.json
// or apps.json (one format covers both):
//
//	hosts.json: {"github.com": {"user": …, "oauth_token": …}}
//	apps.json:  {"github.com:Iv1.xxx": {"user": …, "oauth_token": …, "githubAppId": "Iv1.xxx"}}
//
// Each entry gives a copilot OAuth record whose Refresh is the GitHub
// token (the copilot adapter exchanges it for short-lived Copilot tokens,
// so Access is empty and Expiry zero). The namespace is the host:
// "default" for github.com, the host name for GitHub Enterprise. The
// label and account id are the GitHub user, else "copilot"; ClientID is
// githubAppId. Bad entries are reported by their key and skipped.
func parseCopilot(path string, data []byte) ([]Found, []Problem) {
	return parseDoc(SourceCopilot, path, data, func(c *checker, root object, keys []string) []Found {
		var found []Found
		for _, key := range keys {
			kp := joinPath("", key)
			o, ok := root[key].(object)
			if !ok {
				c.fail(kp, wrongType("object", root[key]))
				continue
			}
			n := len(c.errs)
			token := c.secret(o, kp, "oauth_token", true)
			user := c.str(o, kp, "user", false)
			appID := c.str(o, kp, "githubAppId", false)
			host, err := copilotHost(key, appID)
			if err != nil {
				c.fail(kp, err)
			}
			if len(c.errs) > n {
				continue
			}
			rec := &records.Record{
				Provider: "copilot", Namespace: hostNamespace(host), Label: label(SourceCopilot, user),
				Kind:  records.KindOAuth,
				OAuth: &records.OAuth{Refresh: token, AccountID: user, ClientID: appID},
			}
			found = append(found, Found{Record: rec})
		}
		return found
	})
}

// copilotHost takes the host out of a hosts.json key ("github.com") or an
// apps.json key ("github.com:Iv1.xxx"). A numeric suffix is a port.
func copilotHost(key, appID string) (string, error) {
	host := key
	if appID != "" && strings.HasSuffix(key, ":"+appID) {
		host = strings.TrimSuffix(key, ":"+appID)
	} else if i := strings.LastIndexByte(key, ':'); i >= 0 && !validPort(key[i+1:]) {
		host = key[:i]
	}
	return normalizeHost(host)
}
