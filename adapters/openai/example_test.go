package openai_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/authvault/authvault/adapters/openai"
	"github.com/authvault/authvault/adapters/provider"
)

func ExampleNew() {
	rec := provider.APIKeyRecord(openai.ProviderID, "work", "sk-proj-example")
	rec.Meta = map[string]string{openai.MetaProject: "proj_example"}
	req, _ := http.NewRequest(http.MethodPost, openai.DefaultBaseURL+"/responses", nil)
	if err := openai.New().Authorize(req, rec); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Header.Get("OpenAI-Project"))
	// Output: proj_example
}

func ExampleLogin() {
	// The client is chosen explicitly; its registered redirect port
	// comes with it.
	rec, err := openai.Login(context.Background(), openai.LoginConfig{
		ClientID: openai.PresetCodex.ID,
		Port:     openai.PresetCodex.Port,
		Out:      os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(rec.Label, rec.Meta["plan_type"])
}
