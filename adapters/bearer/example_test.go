package bearer_test

import (
	"fmt"
	"net/http"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/records"
)

func ExampleNew() {
	// A custom OpenAI-compatible provider; the caller registers it with
	// adapters.Register(a).
	a, err := bearer.New("together", bearer.WithBaseURL("https://api.together.xyz/v1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// This account lives behind its own gateway.
	rec := &records.Record{
		Provider: "together", Namespace: "default", Label: "team", Kind: records.KindAPI,
		API:  &records.APIKey{Key: "key-123"},
		Meta: map[string]string{adapters.MetaBaseURL: "https://gateway.example/together/v1"},
	}
	req, _ := http.NewRequest("POST", "https://api.together.xyz/v1/chat/completions", nil)
	if err := a.Authorize(req, rec); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.URL)
	fmt.Println(req.Header.Get("Authorization") != "")
	// Output:
	// https://gateway.example/together/v1/chat/completions
	// true
}
