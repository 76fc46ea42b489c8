package openai

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// jwt builds an unsigned token with the given payload, as an issuer's
// would look to ParseIDToken.
func jwt(payload any) string {
	b, _ := json.Marshal(payload)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(b) + ".c2lnbmF0dXJl"
}

func idToken(email, account, plan string) string {
	return jwt(map[string]any{
		"iss": "https://auth.openai.com", "aud": []string{"app_test"}, "email": email, "exp": now.Add(time.Hour).Unix(),
		"https://api.openai.com/auth": map[string]string{"chatgpt_account_id": account, "chatgpt_plan_type": plan, "chatgpt_user_id": "user-1"},
	})
}
