package authvault

// The provider adapters register themselves; importing authvault makes
// every named provider available to HTTPClient and Open.
import (
	_ "github.com/authvault/authvault/adapters/anthropic"
	_ "github.com/authvault/authvault/adapters/copilot"
	_ "github.com/authvault/authvault/adapters/cursor"
	_ "github.com/authvault/authvault/adapters/google"
	_ "github.com/authvault/authvault/adapters/openai"
	_ "github.com/authvault/authvault/adapters/qwen"
)
