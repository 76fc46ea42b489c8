package provider

import (
	"errors"
	"net/url"
	"testing"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		in         string
		requireTLS bool
		want       string
		wantErr    bool
	}{
		{"https://api.example.com/v1/", true, "https://api.example.com/v1", false},
		{"HTTPS://API.Example.com", true, "https://api.example.com", false},
		{"http://127.0.0.1:8080/v1", true, "http://127.0.0.1:8080/v1", false},
		{"http://localhost:1234", true, "http://localhost:1234", false},
		{"http://[::1]:9/v1", true, "http://[::1]:9/v1", false},
		{"http://lan.example/v1", false, "http://lan.example/v1", false},
		{"http://lan.example/v1", true, "", true},
		{"ftp://x", false, "", true},
		{"api.example.com", false, "", true},
		{"https://u:p@x.example", false, "", true},
		{"https://x.example/v1?key=CANARY-query-key", false, "", true},
		{"https://x.example/v1#CANARY-fragment", false, "", true},
		{"https://x.example:/v1", false, "", true},
		{"::", false, "", true},
		{"", false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseBaseURL(tt.in, tt.requireTLS)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidBaseURL) {
					t.Fatalf("ParseBaseURL = %v, %v; want ErrInvalidBaseURL", u, err)
				}
				adaptertest.NoSecret(t, err, ":p@", "CANARY-query-key", "CANARY-fragment")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.String() != tt.want {
				t.Errorf("ParseBaseURL = %s, want %s", u, tt.want)
			}
		})
	}
}

func TestRebase(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		from, to string
		want     string
	}{
		{"host swap", "https://a.example/v1/chat?x=1", "https://a.example/v1", "https://b.example/v1", "https://b.example/v1/chat?x=1"},
		{"path re-rooted", "https://a.example/v1/chat", "https://a.example/v1", "https://b.example/compat/v1", "https://b.example/compat/v1/chat"},
		{"no default base", "https://a.example/chat/completions", "", "https://b.example/v1", "https://b.example/v1/chat/completions"},
		{"already under target", "https://a.example/v1/models", "", "https://b.example/v1", "https://b.example/v1/models"},
		{"segment boundary", "https://a.example/v10/models", "https://a.example/v1", "https://b.example/v1", "https://b.example/v1/v10/models"},
		{"root target", "https://a.example/chat/completions", "", "https://api.githubcopilot.com", "https://api.githubcopilot.com/chat/completions"},
		{"base itself", "https://a.example/v1", "https://a.example/v1", "https://b.example/v2", "https://b.example/v2"},
		{"escaped path kept", "https://a.example/v1/files/a%2Fb", "https://a.example/v1", "https://b.example/v1", "https://b.example/v1/files/a%2Fb"},
		{"user info dropped", "https://u:p@a.example/v1/x", "https://a.example/v1", "https://b.example/v1", "https://b.example/v1/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var from *url.URL
			if tt.from != "" {
				from = mustParse(t, tt.from)
			}
			rebase(u, from, mustParse(t, tt.to))
			if u.String() != tt.want {
				t.Errorf("Rebase = %s, want %s", u, tt.want)
			}
		})
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := ParseBaseURL(s, false)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
