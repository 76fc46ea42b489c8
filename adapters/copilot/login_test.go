package copilot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/records"
)

// reply is one scripted answer of the fake GitHub.
type reply = oauthtest.Reply

const (
	deviceCode = "dc-github-device-secret"
	ghToken    = "ghu_githubtoken0123456789"
	copTok     = "tid=abc;exp=1777777777;sku=copilot_for_business_seat;proxy-ep=proxy.business.githubcopilot.com"
)

// The paths of one GitHub host's endpoints.
const (
	devicePath   = "/login/device/code"
	tokenPath    = "/login/oauth/access_token"
	exchangePath = "/copilot_internal/v2/token"
)

// github plays one GitHub host: device code, access token and Copilot
// token endpoints, each from a script (the last reply repeats).
type github struct{ *oauthtest.Scripted }

func newGitHub(t *testing.T, device reply, polls []reply, exchange ...reply) *github {
	t.Helper()
	return &github{oauthtest.NewScripted(t, map[string][]reply{
		devicePath:   {device},
		tokenPath:    polls,
		exchangePath: exchange,
	})}
}

func (g *github) endpoints() Endpoints {
	return Endpoints{
		DeviceCodeURL:   g.URL + devicePath,
		AccessTokenURL:  g.URL + tokenPath,
		CopilotTokenURL: g.URL + exchangePath,
	}
}

func (g *github) adapter(host string, clock *adaptertest.Clock, opts ...Option) *adapter {
	return newAdapter(append([]Option{
		WithClientID("Ov23liTestClient"),
		WithEndpoints(host, g.endpoints()),
		WithClock(clock.Now),
		withSleep(clock.Sleep),
	}, opts...)...)
}

func deviceReply(interval, expiresIn int) reply {
	return reply{Status: 200, Body: fmt.Sprintf(`{"device_code":%q,"user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":%d,"interval":%d}`, deviceCode, expiresIn, interval)}
}

func exchangeReply(api string) reply {
	return reply{Status: 200, Body: fmt.Sprintf(`{"token":%q,"expires_at":%d,"refresh_in":1500,"endpoints":{"api":%q,"proxy":"https://proxy.business.githubcopilot.com"},"sku":"copilot_for_business_seat","chat_enabled":true}`, copTok, testNow.Add(30*time.Minute).Unix(), api)}
}

var (
	pending  = reply{Status: 200, Body: `{"error":"authorization_pending","error_description":"The authorization request is still pending.","error_uri":"https://docs.github.com"}`}
	slowDown = reply{Status: 200, Body: `{"error":"slow_down","error_description":"Too many requests have been made in the same timeframe.","interval":10}`}
	slowBare = reply{Status: 200, Body: `{"error":"slow_down"}`}
	granted  = reply{Status: 200, Body: `{"access_token":"` + ghToken + `","token_type":"bearer","scope":"read:user"}`}
)

func TestLogin(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		polls     []reply
		wantWaits []time.Duration
	}{
		{"pending then granted", "", []reply{pending, pending, granted}, []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"slow_down names the interval", "default", []reply{slowDown, pending, granted}, []time.Duration{5 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"slow_down without interval adds 5s", "default", []reply{slowBare, slowBare, granted}, []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second}},
		{"enterprise host", "octocorp.ghe.com", []reply{granted}, []time.Duration{5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitHub(t, deviceReply(5, 900), tt.polls, exchangeReply("https://api.business.githubcopilot.com"))
			host := "github.com"
			if tt.namespace != "" && tt.namespace != "default" {
				host = tt.namespace
			}
			clock := adaptertest.NewClock(testNow)
			var prompt strings.Builder
			rec, err := g.adapter(host, clock).Login(t.Context(), g.Client(), records.ID{Namespace: tt.namespace, Label: "octocat"}, &prompt)
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			ns := tt.namespace
			if ns == "" {
				ns = "default"
			}
			exchangedAt := testNow
			for _, w := range tt.wantWaits {
				exchangedAt = exchangedAt.Add(w)
			}
			want := &records.Record{
				Provider: "copilot", Namespace: ns, Label: "octocat", Kind: records.KindOAuth,
				OAuth: &records.OAuth{
					Access: copTok, Refresh: ghToken, ClientID: "Ov23liTestClient",
					Scopes: []string{"read:user"},
					Expiry: exchangedAt.Add(1500 * time.Second),
				},
				Meta: map[string]string{"api_endpoint": "https://api.business.githubcopilot.com", "plan": "copilot_for_business_seat"},
			}
			if diff := cmp.Diff(want, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWaits, clock.Waits()); diff != "" {
				t.Errorf("poll waits (-want +got):\n%s", diff)
			}
			wantDevice := url.Values{"client_id": {"Ov23liTestClient"}, "scope": {"read:user"}}
			if diff := cmp.Diff(wantDevice, g.Requests(devicePath)[0].Form); diff != "" {
				t.Errorf("device code form (-want +got):\n%s", diff)
			}
			wantPoll := url.Values{"client_id": {"Ov23liTestClient"}, "device_code": {deviceCode}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}
			if diff := cmp.Diff(wantPoll, g.Requests(tokenPath)[0].Form); diff != "" {
				t.Errorf("poll form (-want +got):\n%s", diff)
			}
			x := g.Requests(exchangePath)[0].Header
			if got := x.Get("Authorization"); got != "token "+ghToken {
				t.Error("exchange did not send the GitHub token as 'token <t>'")
			}
			if ua := x.Get("User-Agent"); ua != provider.DefaultUserAgent() {
				t.Errorf("exchange User-Agent = %q", ua)
			}
			if ev := x.Get("Editor-Version"); ev != provider.DefaultUserAgent() {
				t.Errorf("exchange Editor-Version = %q", ev)
			}
			wantPrompt := "To sign in to copilot, open https://github.com/login/device\nand enter the code WDJB-MJHT\n"
			if prompt.String() != wantPrompt {
				t.Errorf("prompt = %q", prompt.String())
			}
		})
	}
}

func TestLoginFailures(t *testing.T) {
	noSeat := reply{Status: 403, Body: `{"error_details":{"url":"https://github.com/github-copilot/signup","message":"No access to GitHub Copilot found. You are currently logged in as octocat.","title":"Signup for GitHub Copilot","notification_id":"no_copilot_access"},"message":"Resource not accessible by integration"}`}
	tests := []struct {
		name     string
		device   reply
		polls    []reply
		exchange reply
		wantIs   error
		wantStep string
		wantCode string
	}{
		{name: "expired_token", device: deviceReply(5, 900), polls: []reply{pending, {Status: 200, Body: `{"error":"expired_token"}`}}, wantIs: provider.ErrDeviceCodeExpired},
		{name: "access_denied", device: deviceReply(5, 900), polls: []reply{{Status: 200, Body: `{"error":"access_denied"}`}}, wantIs: provider.ErrAccessDenied},
		{name: "deadline while pending", device: deviceReply(5, 12), polls: []reply{pending}, wantIs: provider.ErrDeviceCodeExpired},
		{name: "no seat", device: deviceReply(5, 900), polls: []reply{granted}, exchange: noSeat, wantIs: ErrNoCopilotAccess, wantStep: "Copilot token exchange"},
		{name: "bad client", device: deviceReply(5, 900), polls: []reply{{Status: 200, Body: `{"error":"incorrect_client_credentials"}`}}, wantStep: "token poll", wantCode: "incorrect_client_credentials"},
		{name: "device flow disabled", device: reply{Status: 400, Body: `{"error":"device_flow_disabled"}`}, wantStep: "device authorization", wantCode: "device_flow_disabled"},
		{name: "poll answers html", device: deviceReply(5, 900), polls: []reply{{Status: 502, Body: "<html>" + deviceCode + "</html>"}}, wantStep: "token poll"},
		{name: "granted without token", device: deviceReply(5, 900), polls: []reply{{Status: 200, Body: `{"token_type":"bearer"}`}}, wantStep: "token poll"},
		{name: "hostile verification uri", device: reply{Status: 200, Body: `{"device_code":"d","user_code":"U","verification_uri":"http://phish.example/login"}`}, wantStep: "device authorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitHub(t, tt.device, tt.polls, tt.exchange)
			_, err := g.adapter("github.com", adaptertest.NewClock(testNow)).Login(t.Context(), g.Client(), records.ID{Label: "octocat"}, io.Discard)
			if err == nil {
				t.Fatal("Login succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Login = %v, want %v", err, tt.wantIs)
			}
			if tt.wantStep != "" {
				var le *provider.LoginError
				if !errors.As(err, &le) || le.Step != tt.wantStep || le.Code != tt.wantCode {
					t.Errorf("Login = %v, want a provider.LoginError at %q with code %q", err, tt.wantStep, tt.wantCode)
				}
			}
			adaptertest.NoSecret(t, err, deviceCode, ghToken, copTok)
		})
	}
}

func TestLoginPreconditions(t *testing.T) {
	g := newGitHub(t, deviceReply(5, 900), []reply{granted}, exchangeReply("https://api.githubcopilot.com"))
	if _, err := newAdapter().Login(t.Context(), g.Client(), records.ID{Label: "x"}, io.Discard); !errors.Is(err, provider.ErrClientIDRequired) {
		t.Errorf("Login without a client = %v", err)
	}
	a := g.adapter("github.com", adaptertest.NewClock(testNow))
	if _, err := a.Login(t.Context(), g.Client(), records.ID{Namespace: "Work Account", Label: "x"}, io.Discard); !errors.Is(err, ErrBadHost) {
		t.Errorf("Login with a non-host namespace = %v", err)
	}
	if _, err := a.Login(t.Context(), g.Client(), records.ID{Label: "x"}, nil); err == nil {
		t.Error("Login without a prompt writer succeeded")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := a.Login(ctx, g.Client(), records.ID{Label: "x"}, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("Login with a cancelled context = %v", err)
	}
}

func TestRefresh(t *testing.T) {
	g := newGitHub(t, reply{}, nil, exchangeReply("https://api.individual.githubcopilot.com"))
	clock := adaptertest.NewClock(testNow)
	rec := copilotRecord("octocorp.ghe.com", "me", "old-copilot", ghToken, map[string]string{"email": "me@example.com"})
	got, err := g.adapter("octocorp.ghe.com", clock).Refresh(t.Context(), g.Client(), rec)
	if err != nil {
		t.Fatal(err)
	}
	want := copilotRecord("octocorp.ghe.com", "me", copTok, ghToken, map[string]string{
		"email": "me@example.com", "api_endpoint": "https://api.individual.githubcopilot.com", "plan": "copilot_for_business_seat",
	})
	want.OAuth.Expiry = testNow.Add(1500 * time.Second)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if rec.OAuth.Access != "old-copilot" || len(rec.Meta) != 1 {
		t.Error("Refresh modified its input")
	}
}

func TestRefreshFailures(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	tests := []struct {
		name      string
		exchange  reply
		status    int
		code      string
		permanent bool
		wantIs    error
	}{
		{name: "401 bad token", exchange: reply{Status: 401, Body: `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`}, status: 401, code: "bad_credentials", permanent: true},
		{name: "403 no seat", exchange: reply{Status: 403, Body: `{"error_details":{"notification_id":"no_copilot_access"},"message":"Resource not accessible by integration"}`}, status: 403, code: "no_copilot_access", permanent: true, wantIs: ErrNoCopilotAccess},
		{name: "403 hostile notification id", exchange: reply{Status: 403, Body: `{"error_details":{"notification_id":"` + ghToken + ` <b>"}}`}, status: 403, code: "no_copilot_access", permanent: true, wantIs: ErrNoCopilotAccess},
		{name: "403 rate limit", exchange: reply{Status: 403, Header: http.Header{"X-Ratelimit-Remaining": {"0"}}, Body: `{"message":"API rate limit exceeded"}`}, status: 403, code: "rate_limited"},
		{name: "404", exchange: reply{Status: 404, Body: `{"message":"Not Found"}`}, status: 404, code: "no_copilot_access", permanent: true, wantIs: ErrNoCopilotAccess},
		{name: "429", exchange: reply{Status: 429, Body: `{}`}, status: 429},
		{name: "500", exchange: reply{Status: 500, Body: ghToken}, status: 500},
		{name: "malformed json", exchange: reply{Status: 200, Body: `{"token":`}, status: 200, wantIs: provider.ErrMalformedResponse},
		{name: "missing token", exchange: reply{Status: 200, Body: `{"expires_at":1,"refresh_in":1500}`}, status: 200, wantIs: provider.ErrMalformedResponse},
		{name: "missing expiry", exchange: reply{Status: 200, Body: `{"token":"t"}`}, status: 200, wantIs: provider.ErrMalformedResponse},
		{name: "token with newline", exchange: reply{Status: 200, Body: `{"token":"a\nb","refresh_in":1500}`}, status: 200, wantIs: provider.ErrMalformedResponse},
		{name: "plain http api endpoint", exchange: reply{Status: 200, Body: `{"token":"t","refresh_in":1500,"endpoints":{"api":"http://evil.example"}}`}, status: 200, wantIs: provider.ErrMalformedResponse},
		{name: "10 MB answer", exchange: reply{Status: 200, Body: `{"token":"` + big + `"}`}, status: 200, wantIs: provider.ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitHub(t, reply{}, nil, tt.exchange)
			_, err := g.adapter("github.com", adaptertest.NewClock(testNow)).Refresh(t.Context(), g.Client(), copilotRecord("default", "me", "", ghToken, nil))
			var re *adapters.RefreshError
			if !errors.As(err, &re) {
				t.Fatalf("Refresh = %v, want *adapters.RefreshError", err)
			}
			if re.Status != tt.status || re.Code != tt.code || re.Permanent != tt.permanent || re.Provider != Provider {
				t.Errorf("RefreshError = %d %q permanent=%v, want %d %q %v", re.Status, re.Code, re.Permanent, tt.status, tt.code, tt.permanent)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Refresh = %v, want %v", err, tt.wantIs)
			}
			if strings.Contains(err.Error(), ghToken) {
				t.Errorf("error %q reveals the GitHub token", err)
			}
		})
	}
}

func TestRefreshNotPossible(t *testing.T) {
	a := newAdapter()
	if _, err := a.Refresh(t.Context(), nil, copilotRecord("default", "me", "x", "", nil)); !errors.Is(err, adapters.ErrNotRefreshable) {
		t.Errorf("Refresh without a GitHub token = %v", err)
	}
	if _, err := a.Refresh(t.Context(), nil, copilotRecord("Work", "me", "x", ghToken, nil)); !errors.Is(err, ErrBadHost) {
		t.Errorf("Refresh with a non-host namespace = %v", err)
	}
	url := adaptertest.ClosedURL(t)
	_, err := newAdapter(WithEndpoints("github.com", Endpoints{DeviceCodeURL: url, AccessTokenURL: url, CopilotTokenURL: url})).
		Refresh(t.Context(), &http.Client{}, copilotRecord("default", "me", "", ghToken, nil))
	if re := adaptertest.RefreshError(t, err, ghToken); re.Permanent || re.Status != 0 {
		t.Errorf("Refresh against a closed server = %v", err)
	}
}

func TestCopilotExpiry(t *testing.T) {
	tests := []struct {
		name                 string
		expiresAt, refreshIn int64
		want                 time.Time
		ok                   bool
	}{
		{"refresh_in wins", testNow.Add(30 * time.Minute).Unix(), 1500, testNow.Add(25 * time.Minute), true},
		{"expires_at sooner", testNow.Add(10 * time.Minute).Unix(), 1500, testNow.Add(10 * time.Minute), true},
		{"skewed expires_at ignored", testNow.Add(-time.Hour).Unix(), 1500, testNow.Add(25 * time.Minute), true},
		{"only expires_at", testNow.Add(30 * time.Minute).Unix(), 0, testNow.Add(25 * time.Minute), true},
		{"only expired expires_at", testNow.Add(time.Minute).Unix(), 0, time.Time{}, false},
		{"absurd refresh_in capped", 0, 1 << 40, testNow.Add(maxTokenLife), true},
		{"negative refresh_in", 0, -5, time.Time{}, false},
		{"nothing", 0, 0, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := copilotExpiry(testNow, tt.expiresAt, tt.refreshIn)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("copilotExpiry = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
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
