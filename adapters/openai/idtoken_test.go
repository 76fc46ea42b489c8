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
		want  claims
	}{
		{"full", idToken("me@example.com", "acct-123", "plus"),
			claims{AccountID: "acct-123", PlanType: "plus", Email: "me@example.com", Expiry: now.Add(time.Hour)}},
		{"profile email", oauthtest.JWT(map[string]any{"https://api.openai.com/profile": map[string]string{"email": "p@example.com"}}),
			claims{Email: "p@example.com"}},
		{"no claims", oauthtest.JWT(map[string]any{"sub": "x"}), claims{}},
		{"hostile exp", oauthtest.JWT(map[string]any{"exp": 1e300}), claims{}},
		{"negative exp", oauthtest.JWT(map[string]any{"exp": -5}), claims{}},
	}
	for _, c := range cases {
		got, err := parseIDToken(c.token)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	const secret = "c2VjcmV0LXRva2VuLWJvZHk"
	for _, bad := range []string{"", secret, "a." + secret + ".c", "x.e30", oauthtest.JWT("a string")} {
		_, err := parseIDToken(bad)
		if !errors.Is(err, provider.ErrMalformedJWT) {
			t.Errorf("%.24q: err = %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}

func TestParseIDTokenFromCodexAuth(t *testing.T) {
	// A token as found in Codex's auth.json (signature not checked).
	const idToken = "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6Im1lQGV4YW1wbGUuY29tIiwiaHR0cHM6Ly9hcGkub3BlbmFpLmNvbS9hdXRoIjp7ImNoYXRncHRfYWNjb3VudF9pZCI6ImFjY3QtMTIzIiwiY2hhdGdwdF9wbGFuX3R5cGUiOiJwbHVzIn19.c2ln"
	c, err := parseIDToken(idToken)
	if err != nil || c.Email != "me@example.com" || c.AccountID != "acct-123" || c.PlanType != "plus" {
		t.Errorf("parseIDToken = %+v, %v", c, err)
	}
}
