package openai

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters/internal/adaptertest"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

const (
	testKey     = "sk-proj-TESTKEY-0000"
	testAccess  = "eyJ.TESTACCESS.1111"
	testRefresh = "rt_TESTREFRESH_2222"
)

func oauthRecord() *records.Record {
	return &records.Record{
		Provider: ProviderID, Namespace: "default", Label: "me@example.com", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: testAccess, Refresh: testRefresh, AccountID: "acct-123", ClientID: "client-1"},
	}
}

func TestAuthorize(t *testing.T) {
	withMeta := provider.APIKeyRecord(ProviderID, "work", testKey)
	withMeta.Meta = map[string]string{MetaOrganization: "org-abc", MetaProject: "proj_xyz"}
	noAccount := oauthRecord()
	noAccount.OAuth.AccountID = ""
	cases := []struct {
		name string
		rec  *records.Record
		in   http.Header
		want http.Header
	}{
		{"api key", provider.APIKeyRecord(ProviderID, "work", testKey), http.Header{"Content-Type": {"application/json"}},
			http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + testKey}}},
		{"api key replaces a placeholder, adds org and project", withMeta, http.Header{"Authorization": {"Bearer placeholder"}},
			http.Header{"Authorization": {"Bearer " + testKey}, "Openai-Organization": {"org-abc"}, "Openai-Project": {"proj_xyz"}}},
		{"chatgpt sign-in", oauthRecord(), http.Header{},
			http.Header{"Authorization": {"Bearer " + testAccess}, "Chatgpt-Account-Id": {"acct-123"}}},
		{"chatgpt sign-in without account id", noAccount, http.Header{},
			http.Header{"Authorization": {"Bearer " + testAccess}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/responses", nil)
			req.Header = c.in.Clone()
			if err := New().Authorize(req, c.rec); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, req.Header); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if req.URL.String() != "https://api.openai.com/v1/responses" {
				t.Errorf("URL changed: %s", req.URL)
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
	if diff := cmp.Diff(map[string]provider.Client{"codex": PresetCodex}, Presets()); diff != "" {
		t.Error(diff)
	}
	if PresetCodex.ID != "app_EMoamEEZ73f0CkXaXp7hrann" || PresetCodex.Port != 1455 || PresetCodex.Doc == "" {
		t.Errorf("preset %+v", PresetCodex)
	}
}
