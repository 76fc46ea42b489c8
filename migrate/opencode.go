package migrate

import (
	"strings"
	"time"

	"github.com/authvault/authvault/records"
)

// maxMetaEntries is the records package's bound on Meta.
const maxMetaEntries = 64

// parseOpenCode parses OpenCode's auth.json (or the content of
// OPENCODE_AUTH_CONTENT): an object keyed by provider id whose values are
//
//	{"type": "oauth", "refresh", "access", "expires": <ms>, "accountId"?, "enterpriseUrl"?}
//	{"type": "api", "key", "metadata"?: {string: string}}
//	{"type": "wellknown", "key": <env variable name>, "token"}
//
// Keys lose their trailing slashes, as OpenCode's own reader strips them.
// Provider ids map as follows: "github-copilot" and
// "github-copilot-enterprise" become "copilot", in the namespace of the
// enterpriseUrl's host when there is one (Refresh is the GitHub token;
// Access and Expiry are kept only when they hold a Copilot token distinct
// from it); any other key that is a valid authvault provider id
// (lower-case [a-z0-9._-]) is kept. A well-known entry keyed by a URL gets
// the provider id of the URL's host (see below) and WellKnown.Key = the
// URL; its "key" field, the variable OpenCode exports the token in, goes
// to Meta "env". The provider id of a URL is its lower-cased host name,
// with "-<port>" appended when it names a port.
//
// Labels are the entry's accountId when it has one, else "opencode". API
// metadata becomes Meta. Entries that fail to decode, OpenCode drops
// silently; here each is reported by its key and skipped, and the rest are
// imported.
func parseOpenCode(path string, data []byte) ([]Found, []Problem) {
	return parseDoc(SourceOpenCode, path, data, func(c *checker, root object, keys []string) []Found {
		var found []Found
		seen := map[string]bool{}
		for _, raw := range keys {
			kp := joinPath("", raw)
			key := strings.TrimRight(raw, "/")
			if seen[key] {
				c.fail(kp, reason(ErrDuplicateKey, "same key as an earlier entry once trailing slashes are stripped"))
				continue
			}
			seen[key] = true
			o, ok := root[raw].(object)
			if !ok {
				c.fail(kp, wrongType("object", root[raw]))
				continue
			}
			n := len(c.errs)
			var rec *records.Record
			switch typ := c.str(o, kp, "type", true); typ {
			case "oauth":
				rec = openCodeOAuth(c, o, kp, key)
			case "api":
				rec = openCodeAPI(c, o, kp, key)
			case "wellknown":
				rec = openCodeWellKnown(c, o, kp, key)
			case "":
				// already reported
			default:
				c.fail(joinPath(kp, "type"), reason(ErrUnsupported, `unknown type; want "oauth", "api" or "wellknown"`))
			}
			if len(c.errs) > n || rec == nil {
				continue
			}
			found = append(found, Found{Record: rec})
		}
		return found
	})
}

// openCodeProvider maps an OpenCode provider id to authvault's.
func openCodeProvider(c *checker, kp, key string) (provider string, copilot bool) {
	switch key {
	case "github-copilot", "github-copilot-enterprise":
		return "copilot", true
	}
	if !validProvider(key) {
		c.fail(kp, reason(ErrUnsupported, "key is not a valid provider id (lower-case letters, digits, '.', '_', '-')"))
		return "", false
	}
	return key, false
}

func openCodeOAuth(c *checker, o object, kp, key string) *records.Record {
	c.require(o, kp, "access") // OpenCode writes "" before the first exchange
	oauth := &records.OAuth{
		Refresh:   c.secret(o, kp, "refresh", true),
		Access:    c.secret(o, kp, "access", false),
		Expiry:    c.millis(o, kp, "expires", true),
		AccountID: c.str(o, kp, "accountId", false),
	}
	enterprise := c.str(o, kp, "enterpriseUrl", false)
	provider, copilot := openCodeProvider(c, kp, key)
	namespace := records.DefaultNamespace
	var m map[string]string
	if enterprise != "" {
		if copilot {
			host, err := webHost(enterprise)
			if err != nil {
				c.fail(joinPath(kp, "enterpriseUrl"), err)
			}
			namespace = hostNamespace(host)
		} else {
			m = meta("enterprise_url", enterprise)
		}
	}
	if copilot && (oauth.Expiry.IsZero() || oauth.Access == oauth.Refresh) {
		// Newer OpenCode versions store the GitHub token in both fields
		// with expires 0: there is no Copilot token to keep.
		oauth.Access, oauth.Expiry = "", time.Time{}
	}
	rec := oauthRecord(provider, label(SourceOpenCode, oauth.AccountID), oauth, m)
	rec.Namespace = namespace
	return rec
}

func openCodeAPI(c *checker, o object, kp, key string) *records.Record {
	apiKey := c.secret(o, kp, "key", true)
	m := c.strMap(o, kp, "metadata")
	provider, _ := openCodeProvider(c, kp, key)
	if len(m) > maxMetaEntries {
		c.fail(joinPath(kp, "metadata"), reason(ErrInvalidValue, "more than %d entries", maxMetaEntries))
	}
	if len(m) == 0 {
		m = nil
	}
	return &records.Record{
		Provider: provider, Namespace: records.DefaultNamespace, Label: SourceOpenCode,
		Kind: records.KindAPI, API: &records.APIKey{Key: apiKey}, Meta: m,
	}
}

func openCodeWellKnown(c *checker, o object, kp, key string) *records.Record {
	env := c.str(o, kp, "key", true)
	token := c.secret(o, kp, "token", true)
	if env != "" && !validEnvName(env) {
		c.fail(joinPath(kp, "key"), reason(ErrInvalidValue, "not an environment variable name"))
	}
	var provider string
	if strings.Contains(key, "://") {
		p, ok := urlProvider(key)
		if !ok {
			c.fail(kp, reason(ErrUnsupported, "key is not an http(s) URL whose host makes a provider id"))
		}
		provider = p
	} else {
		provider, _ = openCodeProvider(c, kp, key)
	}
	return &records.Record{
		Provider: provider, Namespace: records.DefaultNamespace, Label: SourceOpenCode,
		Kind:      records.KindWellKnown,
		WellKnown: &records.WellKnown{Key: key, Token: token},
		Meta:      meta("env", env),
	}
}

func validEnvName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, c := range []byte(s) {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}
