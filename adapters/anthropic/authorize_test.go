package anthropic

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

const (
	testKey     = "sk-ant-api03-TESTKEY-0000"
	testAccess  = "sk-ant-oat01-TESTACCESS-1111"
	testRefresh = "sk-ant-ort01-TESTREFRESH-2222"
)

func oauthRecord() *records.Record {
	return &records.Record{
		Provider: ProviderID, Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: testAccess, Refresh: testRefresh, ClientID: "client-1"},
	}
}

func TestAuthorize(t *testing.T) {
	cases := []struct {
		name string
		rec  *records.Record
		in   http.Header
		want http.Header
	}{
		{
			name: "api key",
			rec:  provider.APIKeyRecord(ProviderID, "work", testKey),
			in:   http.Header{"Content-Type": {"application/json"}},
			want: http.Header{"Content-Type": {"application/json"}, "X-Api-Key": {testKey}, "Anthropic-Version": {APIVersion}},
		},
		{
			name: "api key keeps caller's version, drops a stale bearer",
			rec:  provider.APIKeyRecord(ProviderID, "work", testKey),
			in:   http.Header{"Anthropic-Version": {"2099-01-01"}, "Authorization": {"Bearer old"}, "X-Api-Key": {"placeholder"}},
			want: http.Header{"Anthropic-Version": {"2099-01-01"}, "X-Api-Key": {testKey}},
		},
		{
			name: "oauth",
			rec:  oauthRecord(),
			in:   http.Header{"X-Api-Key": {"placeholder"}},
			want: http.Header{"Authorization": {"Bearer " + testAccess}, "Anthropic-Beta": {OAuthBeta}, "Anthropic-Version": {APIVersion}},
		},
		{
			name: "oauth appends to a beta list",
			rec:  oauthRecord(),
			in:   http.Header{"Anthropic-Beta": {"prompt-caching-2024-07-31, token-counting-2024-11-01", "output-128k-2025-02-19"}},
			want: http.Header{"Authorization": {"Bearer " + testAccess}, "Anthropic-Beta": {"prompt-caching-2024-07-31,token-counting-2024-11-01,output-128k-2025-02-19," + OAuthBeta}, "Anthropic-Version": {APIVersion}},
		},
		{
			name: "oauth does not duplicate the flag",
			rec:  oauthRecord(),
			in:   http.Header{"Anthropic-Beta": {OAuthBeta + ",x-1", " " + OAuthBeta}},
			want: http.Header{"Authorization": {"Bearer " + testAccess}, "Anthropic-Beta": {OAuthBeta + ",x-1"}, "Anthropic-Version": {APIVersion}},
		},
	}
	a := New()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://api.anthropic.com/v1/messages?beta=true", nil)
			req.Header = c.in.Clone()
			if err := a.Authorize(req, c.rec); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, req.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if got := req.URL.String(); got != "https://api.anthropic.com/v1/messages?beta=true" {
				t.Errorf("URL changed to %s", got)
			}
		})
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	adaptertest.AuthorizeRefuses(t, New().Authorize, provider.ErrNoCredential, provider.ErrUnsupportedKind)
}

func TestRegistered(t *testing.T) {
	adaptertest.Registered(t, ProviderID)
}

func TestPresets(t *testing.T) {
	p := Presets()
	if diff := cmp.Diff(map[string]provider.Client{"claude-code": PresetClaudeCode}, p); diff != "" {
		t.Error(diff)
	}
	if PresetClaudeCode.ID != "9d1c250a-e61b-44d9-88ed-5944d1962f5e" || PresetClaudeCode.Doc == "" {
		t.Errorf("preset %+v", PresetClaudeCode)
	}
	p["claude-code"] = provider.Client{}
	if Presets()["claude-code"].ID == "" {
		t.Error("Presets returned shared state")
	}
}

func TestNewAPIKeyRecord(t *testing.T) {
	r := provider.APIKeyRecord(ProviderID, "work", testKey)
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.AccessToken().Reveal() != testKey || r.ID().String() != "anthropic/default/work" {
		t.Errorf("record %v", r.ID())
	}
}

func TestWithAPIVersion(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, DefaultBaseURL+"/v1/messages", nil)
	if err := with(func(a *adapter) { a.apiVersion = "2099-12-31" }).Authorize(req, provider.APIKeyRecord(ProviderID, "k", testKey)); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("anthropic-version"); got != "2099-12-31" {
		t.Errorf("anthropic-version = %q", got)
	}
}
