package google

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/authvault/authvault/internal/oauthtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const (
	testKey     = "AIzaSyTESTKEY-0000000000000000000000"
	testAccess  = "ya29.TESTACCESS-1111"
	testRefresh = "1//0gTESTREFRESH-2222"
	newAccess   = "ya29.NEWACCESS-3333"
	testSecret  = "GOCSPX-test-secret-5555"
)

func idToken(email string) string {
	return oauthtest.JWT(map[string]any{"iss": "https://accounts.google.com", "email": email, "email_verified": true})
}

// with returns the adapter New returns, changed by set.
func with(set func(a *adapter)) *adapter {
	a := newAdapter()
	set(a)
	return a
}
