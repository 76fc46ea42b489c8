package google

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

func oauthRecord() *records.Record {
	return &records.Record{
		Provider: ProviderID, Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: testAccess, Refresh: testRefresh, ClientID: "client-1.apps.googleusercontent.com"},
		Meta:  map[string]string{MetaClientSecret: testSecret, MetaProjectID: "my-project-123"},
	}
}

func TestAuthorize(t *testing.T) {
	const u = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent"
	cases := []struct {
		name string
		rec  *records.Record
		in   http.Header
		want http.Header
	}{
		{"api key", provider.APIKeyRecord(ProviderID, "k", testKey), http.Header{"Content-Type": {"application/json"}},
			http.Header{"Content-Type": {"application/json"}, "X-Goog-Api-Key": {testKey}}},
		{"api key drops a bearer", provider.APIKeyRecord(ProviderID, "k", testKey), http.Header{"Authorization": {"Bearer x"}},
			http.Header{"X-Goog-Api-Key": {testKey}}},
		{"oauth", oauthRecord(), http.Header{"X-Goog-Api-Key": {"placeholder"}},
			http.Header{"Authorization": {"Bearer " + testAccess}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, u, nil)
			req.Header = c.in.Clone()
			if err := New().Authorize(req, c.rec); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, req.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if req.URL.String() != u {
				t.Errorf("URL changed: %s", req.URL)
			}
		})
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	adaptertest.AuthorizeRefuses(t, New().Authorize, provider.ErrNoCredential, provider.ErrUnsupportedKind)
}

func TestRegisteredAndPresets(t *testing.T) {
	adaptertest.Registered(t, ProviderID)
	if diff := cmp.Diff(map[string]provider.Client{"gemini-cli": PresetGeminiCLI}, Presets()); diff != "" {
		t.Error(diff)
	}
	if PresetGeminiCLI.DeviceFlow || PresetGeminiCLI.Secret == "" || PresetGeminiCLI.Doc == "" {
		t.Errorf("preset %+v", PresetGeminiCLI.Name)
	}
}
