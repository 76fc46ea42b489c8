package provider

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/records"
)

const deviceCode = "dc-secret-0123456789"

func TestAccountID(t *testing.T) {
	got, err := AccountID("p", records.ID{Label: "me"})
	if err != nil || got != (records.ID{Provider: "p", Namespace: records.DefaultNamespace, Label: "me"}) {
		t.Errorf("AccountID = %v, %v", got, err)
	}
	if _, err := AccountID("p", records.ID{Provider: "q", Label: "me"}); !errors.Is(err, ErrWrongProvider) {
		t.Errorf("another provider's id: %v", err)
	}
	if _, err := AccountID("p", records.ID{}); err != nil {
		t.Errorf("an id without a label: %v", err)
	}
}

func TestCheck(t *testing.T) {
	d := &DeviceLogin{Provider: "p", ClientID: "cid"}
	if id, err := d.Check(records.ID{Label: "me"}, io.Discard); err != nil || id.Provider != "p" || id.Namespace != "default" {
		t.Errorf("Check = %v, %v", id, err)
	}
	if _, err := (&DeviceLogin{Provider: "p"}).Check(records.ID{Label: "me"}, io.Discard); !errors.Is(err, ErrClientIDRequired) {
		t.Errorf("no client: %v", err)
	}
	if _, err := d.Check(records.ID{Label: "me"}, nil); err == nil {
		t.Error("no prompt writer accepted")
	}
	if _, err := d.Check(records.ID{Provider: "q", Label: "me"}, io.Discard); !errors.Is(err, ErrWrongProvider) {
		t.Errorf("another provider's id: %v", err)
	}
	if _, err := d.Check(records.ID{Label: "a/b"}, io.Discard); !errors.Is(err, records.ErrInvalidID) {
		t.Errorf("a bad label: %v", err)
	}
}

func device(expiresIn, interval string) oauthtest.Reply {
	return oauthtest.Reply{Status: 200, Body: `{"device_code":"` + deviceCode + `","user_code":"ABCD-1234","verification_uri":"https://example.test/device","expires_in":` + expiresIn + `,"interval":` + interval + `}`}
}

var (
	pending = oauthtest.Reply{Status: 400, Body: `{"error":"authorization_pending"}`}
	granted = oauthtest.Reply{Status: 200, Body: `{"access_token":"at","refresh_token":"rt","scope":"a b"}`}
)

// run logs in against scripted endpoints with a fake clock.
func run(t *testing.T, ctx context.Context, deviceReply oauthtest.Reply, polls ...oauthtest.Reply) (*TokenResponse, *oauthtest.Scripted, *adaptertest.Clock, string, error) {
	t.Helper()
	s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/device": {deviceReply}, "/token": polls})
	clock := adaptertest.NewClock(testNow)
	d := &DeviceLogin{
		Provider: "p", ClientID: "cid", UserAgent: "ua/1", Interval: 3 * time.Second, Now: clock.Now, Sleep: clock.Sleep,
		DeviceCodeURL: s.URL + "/device",
		TokenURL:      s.URL + "/token",
		DeviceParams:  url.Values{"scope": {"a b"}},
		PollParams:    url.Values{"code_verifier": {"v"}},
	}
	var prompt strings.Builder
	tok, err := d.Run(ctx, s.Client(), &prompt)
	if err != nil {
		adaptertest.NoSecret(t, err, deviceCode)
	}
	return tok, s, clock, prompt.String(), err
}

func TestRun(t *testing.T) {
	tok, s, clock, prompt, err := run(t, t.Context(), device("900", "0"), pending, granted)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at" || tok.RefreshToken != "rt" {
		t.Errorf("token %+v", tok)
	}
	if diff := cmp.Diff([]time.Duration{3 * time.Second, 3 * time.Second}, clock.Waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if want := "To sign in to p, open https://example.test/device\nand enter the code ABCD-1234\n"; prompt != want {
		t.Errorf("prompt %q", prompt)
	}
	wantDevice := url.Values{"client_id": {"cid"}, "scope": {"a b"}}
	if diff := cmp.Diff(wantDevice, s.Requests("/device")[0].Form); diff != "" {
		t.Errorf("device form (-want +got):\n%s", diff)
	}
	wantPoll := url.Values{"client_id": {"cid"}, "device_code": {deviceCode}, "grant_type": {DeviceGrantType}, "code_verifier": {"v"}}
	if diff := cmp.Diff(wantPoll, s.Requests("/token")[1].Form); diff != "" {
		t.Errorf("poll form (-want +got):\n%s", diff)
	}
	for _, r := range s.All() {
		if ua := r.Header.Get("User-Agent"); ua != "ua/1" {
			t.Errorf("%s: User-Agent %q", r.Path, ua)
		}
	}
}

func TestRunWaits(t *testing.T) {
	// The server's interval wins over the adapter's; a code that lives an
	// hour is given up after 15 minutes.
	_, s, clock, _, err := run(t, t.Context(), device("3600", "10"), pending)
	if !errors.Is(err, ErrDeviceCodeExpired) {
		t.Fatalf("err = %v", err)
	}
	var le *LoginError
	if errors.As(err, &le) {
		t.Errorf("a deadline reached here is no answer of the server: %v", err)
	}
	if polls := len(s.Requests("/token")); polls != 89 || clock.Now().Sub(testNow) != 15*time.Minute {
		t.Errorf("%d polls over %v", polls, clock.Now().Sub(testNow))
	}
}

func TestRunFailures(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name       string
		ctx        context.Context
		device     oauthtest.Reply
		poll       oauthtest.Reply
		wantStep   string // of a *LoginError; "" for none
		wantStatus int
		wantCode   string
		wantIs     error
	}{
		{name: "device refused", device: oauthtest.Reply{Status: 400, Body: `{"error":"invalid_client"}`}, wantStep: stepDeviceAuthorization, wantStatus: 400, wantCode: "invalid_client"},
		{name: "device answer not json", device: oauthtest.Reply{Status: 200, Body: `<html>`}, wantStep: stepDeviceAuthorization, wantIs: ErrMalformedResponse},
		{name: "device cancelled", ctx: cancelled, device: device("900", "5"), wantStep: stepDeviceAuthorization, wantIs: context.Canceled},
		{name: "hostile verification uri", device: oauthtest.Reply{Status: 200, Body: `{"device_code":"d","user_code":"U","verification_uri":"http://phish.example/"}`}, wantStep: stepDeviceAuthorization},
		{name: "denied", device: device("900", "5"), poll: oauthtest.Reply{Status: 400, Body: `{"error":"access_denied"}`}, wantStep: stepTokenPoll, wantStatus: 400, wantCode: "access_denied", wantIs: ErrAccessDenied},
		{name: "expired", device: device("900", "5"), poll: oauthtest.Reply{Status: 200, Body: `{"error":"expired_token"}`}, wantStep: stepTokenPoll, wantStatus: 200, wantCode: "expired_token", wantIs: ErrDeviceCodeExpired},
		{name: "refused", device: device("900", "5"), poll: oauthtest.Reply{Status: 401, Body: `{"error":"invalid_grant","error_description":"` + deviceCode + `"}`}, wantStep: stepTokenPoll, wantStatus: 401, wantCode: "invalid_grant"},
		{name: "no access token", device: device("900", "5"), poll: oauthtest.Reply{Status: 200, Body: `{"refresh_token":"rt"}`}, wantStep: stepTokenPoll, wantStatus: 200, wantIs: ErrMalformedResponse},
		{name: "unsendable token", device: device("900", "5"), poll: oauthtest.Reply{Status: 200, Body: `{"access_token":"a\nb"}`}, wantStep: stepTokenPoll, wantStatus: 200},
		{name: "unsendable refresh token", device: device("900", "5"), poll: oauthtest.Reply{Status: 200, Body: `{"access_token":"a","refresh_token":"r\u0000"}`}, wantStep: stepTokenPoll, wantStatus: 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := c.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			_, _, _, prompt, err := run(t, ctx, c.device, c.poll)
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if c.wantIs != nil && !errors.Is(err, c.wantIs) {
				t.Errorf("err = %v, want %v", err, c.wantIs)
			}
			var le *LoginError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoginError", err)
			}
			if le.Provider != "p" || le.Step != c.wantStep || le.Status != c.wantStatus || le.Code != c.wantCode {
				t.Errorf("LoginError = %+v, want %q %d %q", le, c.wantStep, c.wantStatus, c.wantCode)
			}
			if c.wantStep == stepDeviceAuthorization && prompt != "" {
				t.Errorf("prompt %q after a failed device authorization", prompt)
			}
		})
	}
}

func TestRunPollEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/device": {device("900", "5")}, "/token": {pending}})
	d := &DeviceLogin{Provider: "p", ClientID: "cid", Now: time.Now, Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	d.DeviceCodeURL, d.TokenURL = s.URL+"/device", s.URL+"/token"
	_, err := d.Run(ctx, s.Client(), io.Discard)
	var le *LoginError
	if !errors.Is(err, context.Canceled) || errors.As(err, &le) {
		t.Errorf("err = %v, want context.Canceled as it is", err)
	}
}

func TestRunDefaultClock(t *testing.T) {
	// A login without a clock of its own uses time.Now for its deadline.
	s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/device": {device("900", "5")}, "/token": {pending, granted}})
	clock := adaptertest.NewClock(testNow)
	d := &DeviceLogin{Provider: "p", ClientID: "cid", Sleep: clock.Sleep, DeviceCodeURL: s.URL + "/device", TokenURL: s.URL + "/token"}
	tok, err := d.Run(t.Context(), s.Client(), io.Discard)
	if err != nil || tok.AccessToken != "at" {
		t.Fatalf("Run = %v, %v", tok, err)
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second, 5 * time.Second}, clock.Waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestRunNetworkFailures(t *testing.T) {
	s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/device": {device("900", "5")}})
	clock := adaptertest.NewClock(testNow)
	d := &DeviceLogin{Provider: "p", ClientID: "cid", Now: clock.Now, Sleep: clock.Sleep}
	d.DeviceCodeURL, d.TokenURL = s.URL+"/device", adaptertest.ClosedURL(t)
	_, err := d.Run(t.Context(), s.Client(), io.Discard)
	var le *LoginError
	if !errors.As(err, &le) || le.Step != stepTokenPoll || le.Status != 0 || le.Err == nil {
		t.Errorf("poll against a closed server: %v", err)
	}
	expired, cancel := context.WithDeadline(t.Context(), testNow)
	defer cancel()
	d.TokenURL = s.URL + "/token"
	_, err = d.Run(expired, s.Client(), io.Discard)
	if !errors.As(err, &le) || le.Step != stepDeviceAuthorization || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("device authorization past the deadline: %v", err)
	}
}
