package copilot_test

import (
	"fmt"
	"net/http"

	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/records"
)

func ExampleNew() {
	a := copilot.New(
		copilot.WithIntegrationID("example-app"),
		copilot.WithEditorVersion("example-app/1.0"),
	)
	rec := &records.Record{
		Provider: copilot.Provider, Namespace: "octocorp.ghe.com", Label: "me", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: "copilot-token", Refresh: "github-token"},
		Meta:  map[string]string{copilot.MetaAPIEndpoint: "https://api.enterprise.githubcopilot.com"},
	}
	req, _ := http.NewRequest("POST", copilot.DefaultAPIURL+"/chat/completions", nil)
	if err := a.Authorize(req, rec); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.URL)
	fmt.Println(req.Header.Get("Copilot-Integration-Id"), req.Header.Get("Editor-Version"))
	// Output:
	// https://api.enterprise.githubcopilot.com/chat/completions
	// example-app example-app/1.0
}
