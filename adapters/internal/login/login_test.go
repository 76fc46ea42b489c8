package login

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/internal/oauthflow"
	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/records"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const deviceCode = "dc-secret-0123456789"

func TestID(t *testing.T) {
	got, err := ID("p", records.ID{Label: "me"})
	if err != nil || got != (records.ID{Provider: "p", Namespace: records.DefaultNamespace, Label: "me"}) {
		t.Errorf("ID = %v, %v", got, err)
	}
	if _, err := ID("p", records.ID{Provider: "q", Label: "me"}); !errors.Is(err, bearer.ErrWrongProvider) {
		t.Errorf("another provider's id: %v", err)
	}
	if _, err := ID("p", records.ID{}); err != nil {
		t.Errorf("an id without a label: %v", err)
	}
}

func TestCheck(t *testing.T) {
	d := &Device{Provider: "p", ClientID: "cid"}
	if id, err := d.Check(records.ID{Label: "me"}, io.Discard); err != nil || id.Provider != "p" || id.Namespace != "default" {
		t.Errorf("Check = %v, %v", id, err)
	}
	if _, err := (&Device{Provider: "p"}).Check(records.ID{Label: "me"}, io.Discard); !errors.Is(err, bearer.ErrNoClientID) {
		t.Errorf("no client: %v", err)
	}
	if _, err := d.Check(records.ID{Label: "me"}, nil); err == nil {
		t.Error("no prompt writer accepted")
	}
	if _, err := d.Check(records.ID{Provider: "q", Label: "me"}, io.Discard); !errors.Is(err, bearer.ErrWrongProvider) {
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
func run(t *testing.T, ctx context.Context, deviceReply oauthtest.Reply, polls ...oauthtest.Reply) (*oauthflow.TokenResponse, *oauthtest.Scripted, *adaptertest.Clock, string, error) {
	t.Helper()
	s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/device": {deviceReply}, "/token": polls})
	clock := adaptertest.NewClock(testNow)
	d := &Device{Provider: "p", ClientID: "cid", UserAgent: "ua/1", Interval: 3 * time.Second, Now: clock.Now, Sleep: clock.Sleep}
	var prompt strings.Builder
	tok, err := d.Run(ctx, s.Client(), &prompt, Endpoints{
		DeviceCodeURL: s.URL + "/device",
		TokenURL:      s.URL + "/token",
		DeviceParams:  url.Values{"scope": {"a b"}},
		PollParams:    url.Values{"code_verifier": {"v"}},
	})
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
	wantPoll := url.Values{"client_id": {"cid"}, "device_code": {deviceCode}, "grant_type": {oauthflow.DeviceGrantType}, "code_verifier": {"v"}}
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
	if !errors.Is(err, bearer.ErrDeviceCodeExpired) {
		t.Fatalf("err = %v", err)
	}
	var le *bearer.LoginError
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
		wantStep   string // of a *bearer.LoginError; "" for none
		wantStatus int
		wantCode   string
		wantIs     error
	}{
		{name: "device refused", device: oauthtest.Reply{Status: 400, Body: `{"error":"invalid_client"}`}, wantStep: StepDeviceAuthorization, wantStatus: 400, wantCode: "invalid_client"},
		{name: "device answer not json", device: oauthtest.Reply{Status: 200, Body: `<html>`}, wantStep: StepDeviceAuthorization, wantIs: oauthflow.ErrMalformedResponse},
		{name: "device cancelled", ctx: cancelled, device: device("900", "5"), wantStep: StepDeviceAuthorization, wantIs: context.Canceled},
		{name: "hostile verification uri", device: oauthtest.Reply{Status: 200, Body: `{"device_code":"d","user_code":"U","verification_uri":"http://phish.example/"}`}, wantStep: StepDeviceAuthorization},
		{name: "denied", device: device("900", "5"), poll: oauthtest.Reply{Status: 400, Body: `{"error":"access_denied"}`}, wantStep: StepTokenPoll, wantStatus: 400, wantCode: "access_denied", wantIs: bearer.ErrAccessDenied},
		{name: "expired", device: device("900", "5"), poll: oauthtest.Reply{Status: 200, Body: `{"error":"expired_token"}`}, wantStep: StepTokenPoll, wantStatus: 200, wantCode: "expired_token", wantIs: bearer.ErrDeviceCodeExpired},
		{name: "refused", device: device("900", "5"), poll: oauthtest.Reply{Status: 401, Body: `{"error":"invalid_grant","error_description":"` + deviceCode + `"}`}, wantStep: StepTokenPoll, wantStatus: 401, wantCode: "invalid_grant"},
		{name: "no access token", device: device("900", "5"), poll: oauthtest.Reply{Status: 200, Body: `{"refresh_token":"rt"}`}, wantStep: StepTokenPoll, wantStatus: 200, wantIs: oauthflow.ErrMalformedResponse},
		{name: "unsendable token", device: device("900", "5"), poll: oauthtest.Reply{Status: 200, Body: `{"access_token":"a\nb"}`}, wantStep: StepTokenPoll, wantStatus: 200},
		{name: "unsendable refresh token", device: device("900", "5"), poll: oauthtest.Reply{Status: 200, Body: `{"access_token":"a","refresh_token":"r\u0000"}`}, wantStep: StepTokenPoll, wantStatus: 200},
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
			var le *bearer.LoginError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *bearer.LoginError", err)
			}
			if le.Provider != "p" || le.Step != c.wantStep || le.Status != c.wantStatus || le.Code != c.wantCode {
				t.Errorf("LoginError = %+v, want %q %d %q", le, c.wantStep, c.wantStatus, c.wantCode)
			}
			if c.wantStep == StepDeviceAuthorization && prompt != "" {
				t.Errorf("prompt %q after a failed device authorization", prompt)
			}
		})
	}
}

func TestRunPollEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/device": {device("900", "5")}, "/token": {pending}})
	d := &Device{Provider: "p", ClientID: "cid", Now: time.Now, Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	_, err := d.Run(ctx, s.Client(), io.Discard, Endpoints{DeviceCodeURL: s.URL + "/device", TokenURL: s.URL + "/token"})
	var le *bearer.LoginError
	if !errors.Is(err, context.Canceled) || errors.As(err, &le) {
		t.Errorf("err = %v, want context.Canceled as it is", err)
	}
}

func TestOptions(t *testing.T) {
	var d Device
	preset := func(name string) (string, bool) { return "preset-id", name == "known" }
	for name, err := range map[string]error{
		"WithClientID": d.SetClientID(" "),
		"WithPreset":   d.SetPreset(preset, "unknown"),
		"WithNow":      d.SetNow(nil),
		"WithSleep":    d.SetSleep(nil),
	} {
		var ce *bearer.ConfigError
		if !errors.As(err, &ce) || ce.Option != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	if d.SetClientID("cid") != nil || d.ClientID != "cid" || d.SetPreset(preset, "known") != nil || d.ClientID != "preset-id" {
		t.Errorf("client id %q", d.ClientID)
	}
	clock := adaptertest.NewClock(testNow)
	if d.SetNow(clock.Now) != nil || d.SetSleep(clock.Sleep) != nil || d.Now() != testNow || d.Sleep(t.Context(), time.Second) != nil {
		t.Error("clock not set")
	}
}

func TestRunNetworkFailures(t *testing.T) {
	s := oauthtest.NewScripted(t, map[string][]oauthtest.Reply{"/device": {device("900", "5")}})
	clock := adaptertest.NewClock(testNow)
	d := &Device{Provider: "p", ClientID: "cid", Now: clock.Now, Sleep: clock.Sleep}
	_, err := d.Run(t.Context(), s.Client(), io.Discard, Endpoints{DeviceCodeURL: s.URL + "/device", TokenURL: adaptertest.ClosedURL(t)})
	var le *bearer.LoginError
	if !errors.As(err, &le) || le.Step != StepTokenPoll || le.Status != 0 || le.Err == nil {
		t.Errorf("poll against a closed server: %v", err)
	}
	expired, cancel := context.WithDeadline(t.Context(), testNow)
	defer cancel()
	_, err = d.Run(expired, s.Client(), io.Discard, Endpoints{DeviceCodeURL: s.URL + "/device", TokenURL: s.URL + "/token"})
	if !errors.As(err, &le) || le.Step != StepDeviceAuthorization || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("device authorization past the deadline: %v", err)
	}
}
