package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestShowDeviceCode(t *testing.T) {
	ok := oauth2.DeviceAuthResponse{DeviceCode: "dc-secret", UserCode: "ABCD-1234", VerificationURI: "https://example.com/device"}
	tests := []struct {
		name    string
		mutate  func(*oauth2.DeviceAuthResponse)
		want    string
		wantErr bool
	}{
		{name: "uri", mutate: func(*oauth2.DeviceAuthResponse) {}, want: "To sign in to p, open https://example.com/device\nand enter the code ABCD-1234\n"},
		{name: "complete uri preferred", mutate: func(d *oauth2.DeviceAuthResponse) {
			d.VerificationURIComplete = "https://example.com/device?code=ABCD-1234"
		}, want: "To sign in to p, open https://example.com/device?code=ABCD-1234\nand enter the code ABCD-1234\n"},
		{name: "loopback http", mutate: func(d *oauth2.DeviceAuthResponse) { d.VerificationURI = "http://127.0.0.1:9/device" }, want: "To sign in to p, open http://127.0.0.1:9/device\nand enter the code ABCD-1234\n"},
		{name: "no device code", mutate: func(d *oauth2.DeviceAuthResponse) { d.DeviceCode = "" }, wantErr: true},
		{name: "no user code", mutate: func(d *oauth2.DeviceAuthResponse) { d.UserCode = "" }, wantErr: true},
		{name: "escape in user code", mutate: func(d *oauth2.DeviceAuthResponse) { d.UserCode = "\x1b]0;pwned\a" }, wantErr: true},
		{name: "plain http", mutate: func(d *oauth2.DeviceAuthResponse) { d.VerificationURI = "http://example.com/device" }, wantErr: true},
		{name: "javascript", mutate: func(d *oauth2.DeviceAuthResponse) { d.VerificationURI = "javascript:alert(1)" }, wantErr: true},
		{name: "bad complete uri", mutate: func(d *oauth2.DeviceAuthResponse) { d.VerificationURIComplete = "https://example.com/\n" }, wantErr: true},
		{name: "user info", mutate: func(d *oauth2.DeviceAuthResponse) { d.VerificationURI = "https://good.example@evil.example/" }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			da := ok
			tt.mutate(&da)
			var out strings.Builder
			err := showDeviceCode(&out, "p", &da)
			if tt.wantErr {
				var le *LoginError
				if !errors.As(err, &le) {
					t.Fatalf("showDeviceCode = %v, want *LoginError", err)
				}
				if out.Len() != 0 {
					t.Errorf("wrote %q despite the error", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("wrote %q, want %q", out.String(), tt.want)
			}
			if strings.Contains(out.String(), "dc-secret") {
				t.Error("device code shown")
			}
		})
	}
}

func TestDeviceAuthFailure(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   string
		wantIs error
	}{
		{"token error", &TokenError{Status: 400, Code: "invalid_client", Description: "secret body"}, "p: login failed at device authorization (HTTP 400): invalid_client", nil},
		{"cancelled", &url.Error{Op: "Post", URL: "https://x.example", Err: context.Canceled}, "p: login failed at device authorization: context canceled", context.Canceled},
		{"deadline", fmt.Errorf("OAuth endpoint request: %w", context.DeadlineExceeded), "p: login failed at device authorization: context deadline exceeded", context.DeadlineExceeded},
		{"malformed", &malformedResponseError{Status: 200, Reason: "no access_token"}, "p: login failed at device authorization: malformed OAuth endpoint response: HTTP 200: no access_token", ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&DeviceLogin{Provider: "p"}).deviceAuthFailure(tt.err)
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
		})
	}
}

func TestClientWithUserAgent(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("User-Agent"))
	}))
	defer srv.Close()
	c := ClientWithUserAgent(srv.Client(), "myapp/1")
	for _, ua := range []string{"", "caller/2"} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if req.Header.Get("User-Agent") != ua {
			t.Error("the caller's request was modified")
		}
	}
	if strings.Join(got, ",") != "myapp/1,caller/2" {
		t.Errorf("User-Agents = %v", got)
	}
	if !strings.HasPrefix(DefaultUserAgent(), "authvault/") {
		t.Errorf("DefaultUserAgent = %q", DefaultUserAgent())
	}
}
