package qwen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/records"
)

const (
	deviceCode  = "dc-secret-device-code"
	accessTok   = "qwen-access-0123456789"
	refreshTok  = "qwen-refresh-0123456789"
	rotatedTok  = "qwen-refresh-rotated-987"
	newAccessTk = "qwen-access-new-987"
)

// The paths of the fake's endpoints.
const (
	devicePath = "/device/code"
	tokenPath  = "/token"
)

// reply is one scripted answer of the fake.
type reply struct {
	status int
	body   string
}

func deviceReply(expiresIn int) reply {
	return reply{200, fmt.Sprintf(`{"device_code":%q,"user_code":"ABCD-1234","verification_uri":"https://chat.qwen.ai/authorize","verification_uri_complete":"https://chat.qwen.ai/authorize?user_code=ABCD-1234&client=qwen-code","expires_in":%d}`, deviceCode, expiresIn)}
}

// oauthServer plays Qwen's device code and token endpoints from a script.
type oauthServer struct{ *oauthtest.Scripted }

func newOAuthServer(t *testing.T, device reply, polls ...reply) *oauthServer {
	t.Helper()
	script := []oauthtest.Reply{}
	for _, r := range polls {
		script = append(script, oauthtest.Reply{Status: r.status, Body: r.body})
	}
	return &oauthServer{oauthtest.NewScripted(t, map[string][]oauthtest.Reply{
		devicePath: {{Status: device.status, Body: device.body}},
		tokenPath:  script,
	})}
}

// forms returns the forms path received.
func (s *oauthServer) forms(path string) []url.Values {
	var fs []url.Values
	for _, r := range s.Requests(path) {
		fs = append(fs, r.Form)
	}
	return fs
}

func (s *oauthServer) adapter(clock *adaptertest.Clock, opts ...Option) *adapter {
	return newAdapter(append([]Option{
		WithClientID(QwenCodeClientID),
		WithDeviceCodeURL(s.URL + devicePath),
		WithTokenURL(s.URL + tokenPath),
		WithClock(clock.Now),
		withSleep(clock.Sleep),
	}, opts...)...)
}

var (
	pending  = reply{400, `{"error":"authorization_pending","error_description":"The authorization request is still pending"}`}
	slowDown = reply{429, `{"error":"slow_down","error_description":"polling too fast"}`}
	granted  = reply{200, `{"access_token":"` + accessTok + `","refresh_token":"` + refreshTok + `","token_type":"Bearer","expires_in":7200,"scope":"openid profile email model.completion","resource_url":"portal.qwen.ai"}`}
)

func TestLogin(t *testing.T) {
	s := newOAuthServer(t, deviceReply(900), pending, pending, granted)
	clock := adaptertest.NewClock(testNow)
	var prompt strings.Builder
	rec, err := s.adapter(clock).Login(context.Background(), s.Client(), records.ID{Label: "me@example.com"}, &prompt)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	want := &records.Record{
		Provider: "qwen", Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
		OAuth: &records.OAuth{
			Access: accessTok, Refresh: refreshTok, ClientID: QwenCodeClientID,
			Expiry:   testNow.Add(3*2*time.Second + 2*time.Hour),
			Scopes:   []string{"openid", "profile", "email", "model.completion"},
			TokenURL: s.URL + "/token",
		},
		Meta: map[string]string{"resource_url": "portal.qwen.ai"},
	}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}, clock.Waits()); diff != "" {
		t.Errorf("poll waits (-want +got):\n%s", diff)
	}
	wantPrompt := "To sign in to qwen, open https://chat.qwen.ai/authorize?user_code=ABCD-1234&client=qwen-code\nand enter the code ABCD-1234\n"
	if prompt.String() != wantPrompt {
		t.Errorf("prompt = %q, want %q", prompt.String(), wantPrompt)
	}
	if strings.Contains(prompt.String(), deviceCode) {
		t.Error("prompt shows the device code")
	}

	// PKCE: the challenge sent first must be the S256 of the verifier sent
	// with every poll.
	pollForms := s.forms(tokenPath)
	verifier := pollForms[0].Get("code_verifier")
	wantDevice := url.Values{
		"client_id":             {QwenCodeClientID},
		"scope":                 {"openid profile email model.completion"},
		"code_challenge_method": {"S256"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
	}
	if diff := cmp.Diff(wantDevice, s.forms(devicePath)[0]); diff != "" {
		t.Errorf("device authorization form (-want +got):\n%s", diff)
	}
	wantPoll := url.Values{
		"grant_type":    {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id":     {QwenCodeClientID},
		"device_code":   {deviceCode},
		"code_verifier": {verifier},
	}
	for i, f := range pollForms {
		if diff := cmp.Diff(wantPoll, f); diff != "" {
			t.Errorf("poll %d form (-want +got):\n%s", i, diff)
		}
	}
	for _, r := range s.All() {
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "authvault/") {
			t.Errorf("User-Agent = %q", ua)
		}
	}
}

func TestLoginSlowDown(t *testing.T) {
	s := newOAuthServer(t, deviceReply(900), slowDown, slowDown, slowDown, slowDown, slowDown, granted)
	clock := adaptertest.NewClock(testNow)
	if _, err := s.adapter(clock).Login(context.Background(), s.Client(), records.ID{Label: "me"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	// ×1.5 per slow_down, capped at 10 s.
	want := []time.Duration{2 * time.Second, 3 * time.Second, 4500 * time.Millisecond, 6750 * time.Millisecond, 10 * time.Second, 10 * time.Second}
	if diff := cmp.Diff(want, clock.Waits()); diff != "" {
		t.Errorf("poll waits (-want +got):\n%s", diff)
	}
}

func TestLoginFailures(t *testing.T) {
	tests := []struct {
		name       string
		device     reply
		polls      []reply
		opts       []Option
		wantIs     error
		wantStatus int // of a *provider.LoginError, when wantIs is nil
		wantCode   string
		wantStep   string
	}{
		{name: "expired_token", device: deviceReply(900), polls: []reply{pending, {400, `{"error":"expired_token"}`}}, wantIs: provider.ErrDeviceCodeExpired},
		{name: "access_denied", device: deviceReply(900), polls: []reply{{400, `{"error":"access_denied"}`}}, wantIs: provider.ErrAccessDenied},
		{name: "deadline passes while pending", device: deviceReply(7), polls: []reply{pending}, wantIs: provider.ErrDeviceCodeExpired},
		{name: "401 invalid device code", device: deviceReply(900), polls: []reply{{401, `{"error":"invalid_grant"}`}}, wantStatus: 401, wantCode: "invalid_grant", wantStep: "token poll"},
		{name: "500 html", device: deviceReply(900), polls: []reply{{500, `<html>` + deviceCode + `</html>`}}, wantStatus: 500, wantStep: "token poll"},
		{name: "malformed json", device: deviceReply(900), polls: []reply{{200, `{"access_token":`}}, wantStatus: 200, wantStep: "token poll"},
		{name: "missing access token", device: deviceReply(900), polls: []reply{{200, `{"refresh_token":"` + refreshTok + `"}`}}, wantStatus: 200, wantStep: "token poll"},
		{name: "hostile resource url", device: deviceReply(900), polls: []reply{{200, `{"access_token":"` + accessTok + `","resource_url":"http://evil.example"}`}}, wantStatus: 200, wantCode: "resource_url", wantStep: "token poll"},
		{name: "device auth refused", device: reply{400, `{"error":"invalid_client","error_description":"unknown client"}`}, wantStatus: 400, wantCode: "invalid_client", wantStep: "device authorization"},
		{name: "device auth not json", device: reply{200, `<html>`}, wantStep: "device authorization"},
		{name: "hostile verification uri", device: reply{200, `{"device_code":"d","user_code":"U","verification_uri":"javascript:alert(1)"}`}, wantStep: "device authorization"},
		{name: "terminal escape in user code", device: reply{200, `{"device_code":"d","user_code":"\u001b[2J","verification_uri":"https://chat.qwen.ai/a"}`}, wantStep: "device authorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newOAuthServer(t, tt.device, append(tt.polls, pending)...)
			clock := adaptertest.NewClock(testNow)
			var prompt strings.Builder
			_, err := s.adapter(clock, tt.opts...).Login(context.Background(), s.Client(), records.ID{Label: "me"}, &prompt)
			if err == nil {
				t.Fatal("Login succeeded")
			}
			if tt.wantIs != nil {
				if !errors.Is(err, tt.wantIs) {
					t.Errorf("Login = %v, want %v", err, tt.wantIs)
				}
			} else {
				var le *provider.LoginError
				if !errors.As(err, &le) {
					t.Fatalf("Login = %v, want *provider.LoginError", err)
				}
				if le.Status != tt.wantStatus || le.Code != tt.wantCode || le.Step != tt.wantStep {
					t.Errorf("provider.LoginError = %d %q %q, want %d %q %q", le.Status, le.Code, le.Step, tt.wantStatus, tt.wantCode, tt.wantStep)
				}
			}
			adaptertest.NoSecret(t, err, deviceCode, accessTok, refreshTok)
			if strings.Contains(prompt.String(), "\x1b") {
				t.Error("prompt carries a terminal escape")
			}
		})
	}
}

func TestLoginPreconditions(t *testing.T) {
	s := newOAuthServer(t, deviceReply(900), granted)
	clock := adaptertest.NewClock(testNow)
	noClient := newAdapter(WithDeviceCodeURL(s.URL+"/device/code"), WithTokenURL(s.URL+"/token"))
	if _, err := noClient.Login(context.Background(), s.Client(), records.ID{Label: "me"}, io.Discard); !errors.Is(err, provider.ErrClientIDRequired) {
		t.Errorf("Login without a client = %v, want provider.ErrClientIDRequired", err)
	}
	a := s.adapter(clock)
	if _, err := a.Login(context.Background(), s.Client(), records.ID{Label: "me"}, nil); err == nil {
		t.Error("Login without a prompt writer succeeded")
	}
	if _, err := a.Login(context.Background(), s.Client(), records.ID{Provider: "openai", Label: "me"}, io.Discard); !errors.Is(err, provider.ErrWrongProvider) {
		t.Errorf("Login for another provider = %v", err)
	}
	if _, err := a.Login(context.Background(), s.Client(), records.ID{Label: "a/b"}, io.Discard); !errors.Is(err, records.ErrInvalidID) {
		t.Errorf("Login with a bad label = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Login(ctx, s.Client(), records.ID{Label: "me"}, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("Login with a cancelled context = %v", err)
	}
}

func TestRefresh(t *testing.T) {
	tests := []struct {
		name     string
		reply    reply
		oldMeta  map[string]string
		wantMeta map[string]string
		want     *records.OAuth
	}{
		{
			name:     "rotates and moves",
			reply:    reply{200, `{"access_token":"` + newAccessTk + `","refresh_token":"` + rotatedTok + `","token_type":"Bearer","expires_in":3600,"resource_url":"portal-2.qwen.ai"}`},
			oldMeta:  map[string]string{"resource_url": "portal.qwen.ai"},
			wantMeta: map[string]string{"resource_url": "portal-2.qwen.ai"},
			want:     &records.OAuth{Access: newAccessTk, Refresh: rotatedTok, ClientID: QwenCodeClientID, Expiry: testNow.Add(time.Hour)},
		},
		{
			name:     "unusable resource url ignored",
			reply:    reply{200, `{"access_token":"` + newAccessTk + `","refresh_token":"` + rotatedTok + `","expires_in":3600,"resource_url":"http://evil.example"}`},
			oldMeta:  map[string]string{"resource_url": "portal.qwen.ai"},
			wantMeta: map[string]string{"resource_url": "portal.qwen.ai"},
			want:     &records.OAuth{Access: newAccessTk, Refresh: rotatedTok, ClientID: QwenCodeClientID, Expiry: testNow.Add(time.Hour)},
		},
		{
			name:     "unusable resource url dropped",
			reply:    reply{200, `{"access_token":"` + newAccessTk + `","expires_in":3600,"resource_url":"http://evil.example"}`},
			wantMeta: map[string]string{},
			want:     &records.OAuth{Access: newAccessTk, Refresh: refreshTok, ClientID: QwenCodeClientID, Expiry: testNow.Add(time.Hour)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newOAuthServer(t, deviceReply(900), tt.reply)
			clock := adaptertest.NewClock(testNow)
			rec := accountRecord("me", accessTok, tt.oldMeta)
			rec.OAuth.Refresh = refreshTok
			got, err := s.adapter(clock).Refresh(context.Background(), s.Client(), rec)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.OAuth); diff != "" {
				t.Errorf("OAuth (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMeta, got.Meta); diff != "" {
				t.Errorf("Meta (-want +got):\n%s", diff)
			}
			wantForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshTok}, "client_id": {QwenCodeClientID}}
			if diff := cmp.Diff(wantForm, s.forms(tokenPath)[0]); diff != "" {
				t.Errorf("refresh form (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefreshFailures(t *testing.T) {
	tests := []struct {
		name      string
		reply     reply
		permanent bool
	}{
		{"400 invalid_grant", reply{400, `{"error":"invalid_grant","error_description":"` + refreshTok + `"}`}, true},
		{"401", reply{401, `{"error":"invalid_client"}`}, true},
		{"500", reply{500, `oops ` + refreshTok}, false},
		{"malformed", reply{200, `not json ` + refreshTok}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newOAuthServer(t, deviceReply(900), tt.reply)
			rec := accountRecord("me", accessTok, nil)
			rec.OAuth.Refresh = refreshTok
			_, err := s.adapter(adaptertest.NewClock(testNow)).Refresh(context.Background(), s.Client(), rec)
			var re *adapters.RefreshError
			if !errors.As(err, &re) || re.Permanent != tt.permanent || re.Provider != Provider {
				t.Fatalf("Refresh = %v (%+v), want permanent=%v", err, re, tt.permanent)
			}
			if strings.Contains(err.Error(), refreshTok) || strings.Contains(err.Error(), accessTok) {
				t.Errorf("error %q reveals a token", err)
			}
		})
	}
}

// withSleep sets how Login waits between polls.
func withSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(a *adapter) error {
		a.device.Sleep = sleep
		return nil
	}
}
