package anthropic_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/provider"
)

func ExampleNew() {
	rec := provider.APIKeyRecord(anthropic.ProviderID, "work", "sk-ant-api03-example")
	req, _ := http.NewRequest(http.MethodPost, anthropic.DefaultBaseURL+"/v1/messages", nil)
	if err := anthropic.New().Authorize(req, rec); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Header.Get("anthropic-version"), req.Header.Get("x-api-key") != "")
	// Output: 2023-06-01 true
}

func ExampleLogin() {
	// The client is chosen explicitly; PresetClaudeCode's Doc says what
	// using it implies.
	rec, err := anthropic.Login(context.Background(), anthropic.LoginConfig{
		ClientID:     anthropic.PresetClaudeCode.ID,
		RedirectMode: provider.RedirectPaste,
		Prompt:       os.Stdin,
		Out:          os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	if rec.Label == "" {
		rec.Label = "personal"
	}
	// Store rec in the vault.
}
