package anthropic

import "github.com/authvault/authvault/adapters/provider"

// PresetClaudeCode is the public OAuth client of Claude Code,
// Anthropic's command-line tool. Tokens issued to it are meant for Claude
// Code: Anthropic has asked third-party tools to drop subscription login,
// and answers requests from other software with "This credential is only
// authorized for use with Claude Code". Select it only where Anthropic's
// terms allow your use.
var PresetClaudeCode = provider.Client{
	Name: "claude-code",
	ID:   "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
	Doc:  "the public OAuth client of Claude Code (Anthropic's CLI); its tokens are meant for Claude Code, and Anthropic refuses them from other software",
}

// Presets returns the named clients by name. The map is a fresh copy.
func Presets() map[string]provider.Client {
	return map[string]provider.Client{PresetClaudeCode.Name: PresetClaudeCode}
}
