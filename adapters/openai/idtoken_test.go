package openai

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/oauthtest"
)

func TestParseIDToken(t *testing.T) {
	cases := []struct {
		name  string
		token string
		want  Claims
	}{
		{"full", idToken("me@example.com", "acct-123", "plus"),
			Claims{AccountID: "acct-123", PlanType: "plus", Email: "me@example.com", Expiry: now.Add(time.Hour)}},
		{"profile email", oauthtest.JWT(map[string]any{"https://api.openai.com/profile": map[string]string{"email": "p@example.com"}}),
			Claims{Email: "p@example.com"}},
		{"no claims", oauthtest.JWT(map[string]any{"sub": "x"}), Claims{}},
		{"hostile exp", oauthtest.JWT(map[string]any{"exp": 1e300}), Claims{}},
		{"negative exp", oauthtest.JWT(map[string]any{"exp": -5}), Claims{}},
	}
	for _, c := range cases {
		got, err := ParseIDToken(c.token)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	const secret = "c2VjcmV0LXRva2VuLWJvZHk"
	for _, bad := range []string{"", secret, "a." + secret + ".c", "x.e30", oauthtest.JWT("a string")} {
		_, err := ParseIDToken(bad)
		if !errors.Is(err, provider.ErrMalformedJWT) {
			t.Errorf("%.24q: err = %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}
