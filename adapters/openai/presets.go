package openai

import "github.com/authvault/authvault/adapters/provider"

// PresetCodex is the public OAuth client of the Codex CLI, OpenAI's
// coding agent, registered with the redirect URI
// http://localhost:1455/auth/callback. Its tokens carry the ChatGPT
// plan's usage limits and are meant for Codex; select it only where
// OpenAI's terms allow your use.
var PresetCodex = provider.Client{
	Name: "codex",
	ID:   "app_EMoamEEZ73f0CkXaXp7hrann",
	Port: 1455,
	Doc:  "the public OAuth client of the Codex CLI (redirect http://localhost:1455/auth/callback); its tokens are meant for Codex",
}

// Presets returns the named clients by name. The map is a fresh copy.
func Presets() map[string]provider.Client {
	return map[string]provider.Client{PresetCodex.Name: PresetCodex}
}
