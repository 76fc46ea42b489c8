package migrate

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/authvault/authvault/records"
)

// normalizeHost lower-cases a host name with an optional port and checks
// it: letters, digits, '-' and '.', at most 253 bytes. IP literals of
// IPv6 are refused: no source writes them.
func normalizeHost(h string) (string, error) {
	bad := reason(ErrInvalidValue, "not a host name")
	h = strings.ToLower(h)
	name, port, hasPort := strings.Cut(h, ":")
	if name == "" || len(name) > 253 || hasPort && !validPort(port) {
		return "", bad
	}
	for i, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '.')
		if !ok {
			return "", bad
		}
	}
	return h, nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 65536 && strconv.Itoa(n) == p
}

// webHost returns the host of a URL or of a bare host name, as users type
// GitHub Enterprise addresses either way ("company.ghe.com",
// "https://company.ghe.com/").
func webHost(s string) (string, error) {
	raw := s
	if !strings.Contains(s, "://") {
		raw = "https://" + s
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", reason(ErrInvalidValue, "want a host name or a URL without a path")
	}
	return normalizeHost(u.Host)
}

// hostNamespace is the namespace of a GitHub host's Copilot account:
// "default" for github.com, the host itself for an enterprise server.
func hostNamespace(host string) string {
	if host == "github.com" {
		return records.DefaultNamespace
	}
	return host
}

// urlProvider derives a provider id from an OpenCode well-known URL: its
// lower-cased host, with "-<port>" appended when it has a port, so
// "https://auth.example.com:8443/" becomes "auth.example.com-8443".
func urlProvider(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", false
	}
	host, err := normalizeHost(u.Host)
	if err != nil {
		return "", false
	}
	p := strings.Replace(host, ":", "-", 1)
	return p, validProvider(p)
}

func validProvider(p string) bool {
	return records.ID{Provider: p, Namespace: "x", Label: "x"}.Validate() == nil
}
