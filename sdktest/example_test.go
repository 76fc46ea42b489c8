package sdktest

import (
	"context"
	"fmt"
	"log"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/authvault/authvault"
)

// authvault's client handed to anthropic-sdk-go: every call is sent with an
// account from the default vault, and moves to the next account when one
// is rate limited, before the SDK sees the 429.
func Example_anthropic() {
	ctx := context.Background()
	hc, err := authvault.HTTPClient(ctx, "anthropic")
	if err != nil {
		log.Fatal(err)
	}
	// The SDK will not send without a key of its own: the placeholder
	// satisfies it, and authvault replaces it with the account's.
	client := anthropic.NewClient(option.WithHTTPClient(hc), option.WithAPIKey(authvault.PlaceholderKey))
	msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 1024,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hello"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.Content[0].Text)
}
