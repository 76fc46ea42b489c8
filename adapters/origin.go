package adapters

import (
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/authvault/authvault/records"
)

// MetaBaseURL is the record Meta key that holds an account's own base URL:
// every adapter re-points a request addressed to its provider's default
// base URL at it, and binds its origin to the account.
const MetaBaseURL = "base_url"

// Origin is where a credential may be sent: a URL's scheme, host and
// port, written "scheme://host" with the port only when it is not the
// scheme's default: "https://api.anthropic.com", "http://127.0.0.1:8080".
// Scheme and host are lower case, so equal origins are equal strings.
type Origin string

// OriginOf returns the origin of an absolute URL.
func OriginOf(u *url.URL) Origin {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" || scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return Origin(scheme + "://" + host)
	}
	return Origin(scheme + "://" + net.JoinHostPort(host, port))
}

// Bound reports whether u's origin is one of origins.
func Bound(u *url.URL, origins []Origin) bool {
	o := OriginOf(u)
	for _, b := range origins {
		if b == o {
			return true
		}
	}
	return false
}

// ErrInvalidOrigin is returned by ParseOrigin for anything that is not an
// absolute http or https URL with a host and no user information.
var ErrInvalidOrigin = errors.New("not an http or https origin")

// ParseOrigin returns the origin of s, an origin or any absolute http or
// https URL ("https://api.example.com/v1" gives "https://api.example.com").
// The error never quotes s, which may carry a password.
func ParseOrigin(s string) (Origin, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", ErrInvalidOrigin
	}
	if sc := strings.ToLower(u.Scheme); sc != "http" && sc != "https" {
		return "", ErrInvalidOrigin
	}
	if u.Port() == "" && strings.HasSuffix(u.Host, ":") {
		return "", ErrInvalidOrigin
	}
	return OriginOf(u), nil
}

// AccountOrigins returns the origin of rec's own base URL (Meta[MetaBaseURL])
// appended to defaults, or defaults itself when the record names none or
// one that does not parse (Authorize refuses such a record). The result
// must not be modified.
func AccountOrigins(rec *records.Record, defaults []Origin) []Origin {
	if rec == nil {
		return defaults
	}
	raw := rec.Meta[MetaBaseURL]
	if raw == "" {
		return defaults
	}
	o, err := ParseOrigin(raw)
	if err != nil {
		return defaults
	}
	for _, d := range defaults {
		if d == o {
			return defaults
		}
	}
	out := make([]Origin, len(defaults), len(defaults)+1)
	copy(out, defaults)
	return append(out, o)
}
