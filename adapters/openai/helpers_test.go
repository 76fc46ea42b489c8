package openai

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/authvault/authvault/internal/oauthtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// idToken builds an unsigned id token, as an issuer's would look to
// parseIDToken.
func idToken(email, account, plan string) string {
	return oauthtest.JWT(map[string]any{
		"iss": "https://auth.openai.com", "aud": []string{"app_test"}, "email": email, "exp": now.Add(time.Hour).Unix(),
		"https://api.openai.com/auth": map[string]string{"chatgpt_account_id": account, "chatgpt_plan_type": plan, "chatgpt_user_id": "user-1"},
	})
}

// with returns the adapter New returns, changed by set.
func with(set func(a *adapter)) *adapter {
	a := newAdapter()
	set(a)
	return a
}
