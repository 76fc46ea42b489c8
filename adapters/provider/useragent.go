package provider

import (
	"net/http"
	"runtime/debug"
	"sync"
)

const modulePath = "github.com/authvault/authvault"

var userAgent = sync.OnceValue(func() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == modulePath && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == modulePath && d.Version != "" {
				v = d.Version
			}
		}
	}
	return "authvault/" + v
})

// DefaultUserAgent returns "authvault/<module version>" ("authvault/devel"
// in a build without module version information). Requests the adapters
// make themselves (login, refresh, token exchange) say who sends them with
// it unless configured otherwise; no adapter claims to be another product.
func DefaultUserAgent() string { return userAgent() }

// ClientWithUserAgent returns a copy of client (http.DefaultClient when
// nil) whose requests carry User-Agent ua unless they already set one.
func ClientWithUserAgent(client *http.Client, ua string) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &userAgentTransport{base: base, ua: ua}
	return &c
}

type userAgentTransport struct {
	base http.RoundTripper
	ua   string
}

func (t *userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") != "" || t.ua == "" {
		return t.base.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.ua)
	return t.base.RoundTrip(r)
}
