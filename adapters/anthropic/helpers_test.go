package anthropic

import (
	"net/http"
	"net/url"
	"testing"

	"go.uber.org/goleak"

	"github.com/authvault/authvault/internal/oauthtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rewrite sends every request to the fake's token endpoint, so that
// default endpoints can be exercised without leaving the machine.
type rewrite struct {
	to   string
	base http.RoundTripper
}

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	u, _ := url.Parse(r.to)
	c := req.Clone(req.Context())
	c.URL.Scheme, c.URL.Host, c.Host, c.URL.Path = u.Scheme, u.Host, u.Host, oauthtest.TokenPath
	return r.base.RoundTrip(c)
}

// with returns the adapter New returns, changed by set.
func with(set func(a *adapter)) *adapter {
	a := newAdapter()
	set(a)
	return a
}
