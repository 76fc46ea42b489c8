package provider

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/records"
)

// baseURLError is ErrInvalidBaseURL for the URL u (with any password,
// query and fragment removed; "" when it did not parse at all) and why.
func baseURLError(u, reason string) error {
	if u == "" {
		return fmt.Errorf("%w: %s", ErrInvalidBaseURL, reason)
	}
	return fmt.Errorf("%w %s: %s", ErrInvalidBaseURL, u, reason)
}

// ParseBaseURL parses an API base URL: an absolute http or https URL with a
// host, no user information, no query and no fragment. A trailing slash is
// removed from the path.
//
// With requireTLS the scheme must be https, except for loopback hosts
// (localhost, 127.0.0.0/8, ::1), so that a URL learned from a server never
// sends a token in clear text across a network. Operator-configured URLs may
// pass false to reach plain-http servers on a LAN.
func ParseBaseURL(s string, requireTLS bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		// url.Parse errors quote the input, which may carry a password.
		return nil, baseURLError("", "not a URL")
	}
	fail := func(reason string) (*url.URL, error) {
		// The query and fragment are left out of the error as the
		// password is: an API key is often passed as ?key=.
		shown := *u
		shown.RawQuery, shown.ForceQuery, shown.Fragment, shown.RawFragment = "", false, "", ""
		return nil, baseURLError(shown.Redacted(), reason)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fail("scheme must be http or https")
	case u.Opaque != "" || u.Host == "":
		return fail("no host")
	case u.User != nil:
		return fail("user information is not allowed")
	case u.RawQuery != "" || u.ForceQuery:
		return fail("query is not allowed")
	case u.Fragment != "":
		return fail("fragment is not allowed")
	case u.Port() == "" && strings.HasSuffix(u.Host, ":"):
		return fail("empty port")
	}
	if requireTLS && u.Scheme != "https" && !IsLoopback(u.Hostname()) {
		return fail("https is required")
	}
	u.Host = strings.ToLower(u.Host)
	ep := strings.TrimRight(u.EscapedPath(), "/")
	setEscapedPath(u, ep)
	return u, nil
}

// IsLoopback reports whether host (without port) names the local machine:
// "localhost" or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// rebase points u at the base URL to, in place. The scheme and host become
// to's. The path is re-rooted: when it starts with from's path (the
// provider's default base, may be nil) that prefix is dropped; then to's
// path is put in front unless the path already starts with it. The query
// is kept.
//
// With from "https://api.example.com/v1" and to "https://proxy.lan/openai/v1",
// "https://api.example.com/v1/chat/completions?x=1" becomes
// "https://proxy.lan/openai/v1/chat/completions?x=1". Segments are compared
// whole: "/v10" does not start with "/v1".
func rebase(u, from, to *url.URL) {
	p := u.EscapedPath()
	if from != nil {
		if rest, ok := cutPathPrefix(p, strings.TrimRight(from.EscapedPath(), "/")); ok {
			p = rest
		}
	}
	tp := strings.TrimRight(to.EscapedPath(), "/")
	if _, ok := cutPathPrefix(p, tp); !ok {
		if p != "" && !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		p = tp + p
	}
	u.Scheme = to.Scheme
	u.Host = to.Host
	u.User = nil
	u.Opaque = ""
	setEscapedPath(u, p)
}

// cutPathPrefix reports whether p starts with the whole segments of prefix,
// and returns the rest (which starts with "/" or is empty).
func cutPathPrefix(p, prefix string) (string, bool) {
	switch {
	case prefix == "":
		return p, true
	case p == prefix:
		return "", true
	case strings.HasPrefix(p, prefix+"/"):
		return p[len(prefix):], true
	}
	return p, false
}

func setEscapedPath(u *url.URL, ep string) {
	p, err := url.PathUnescape(ep)
	if err != nil {
		// EscapedPath output always unescapes; keep the URL usable anyway.
		u.Path, u.RawPath = ep, ""
		return
	}
	u.Path = p
	u.RawPath = ep
	if u.EscapedPath() != ep {
		u.RawPath = ""
	}
}

// accountBaseURL returns rec's own base URL, Meta[adapters.MetaBaseURL], or nil
// when the record names none.
func accountBaseURL(rec *records.Record) (*url.URL, error) {
	raw := rec.Meta[adapters.MetaBaseURL]
	if raw == "" {
		return nil, nil
	}
	u, err := ParseBaseURL(raw, false)
	if err != nil {
		return nil, fmt.Errorf("record %s: Meta[%q]: %w", rec.ID(), adapters.MetaBaseURL, err)
	}
	return u, nil
}

// RebaseRequest re-points req at the base URL to (see rebase) when req is
// addressed to the origin of from, the provider's default base URL, or
// whatever its origin when from is nil. A request addressed anywhere else
// is left alone, for the transport to refuse unless its origin is bound
// to the account.
func RebaseRequest(req *http.Request, from, to *url.URL) {
	if to == nil || from != nil && adapters.OriginOf(req.URL) != adapters.OriginOf(from) {
		return
	}
	rebase(req.URL, from, to)
	req.Host = to.Host
}

// RebaseAccount is RebaseRequest onto rec's own base URL
// (accountBaseURL), for adapters whose accounts have no other endpoint.
func RebaseAccount(req *http.Request, rec *records.Record, from *url.URL) error {
	to, err := accountBaseURL(rec)
	if err != nil {
		return err
	}
	RebaseRequest(req, from, to)
	return nil
}
