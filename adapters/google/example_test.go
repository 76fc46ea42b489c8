package google_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/provider"
)

func ExampleNew() {
	rec := provider.APIKeyRecord(google.ProviderID, "work", "AIza-example")
	req, _ := http.NewRequest(http.MethodPost, google.DefaultBaseURL+"/v1beta/models/gemini-2.5-pro:generateContent", nil)
	if err := google.New().Authorize(req, rec); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Header.Get("x-goog-api-key") != "", req.URL.RawQuery == "")
	// Output: true true
}

func ExampleLogin() {
	// A desktop client registered in your own Cloud project.
	rec, err := google.Login(context.Background(), google.LoginConfig{
		ClientID:     "1234-example.apps.googleusercontent.com",
		ClientSecret: "GOCSPX-example",
		Out:          os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	// For a Code Assist account, record its Cloud project.
	if rec.Meta == nil {
		rec.Meta = map[string]string{}
	}
	rec.Meta[google.MetaProjectID] = "my-code-assist-project"
	fmt.Println(rec.Label)
}
