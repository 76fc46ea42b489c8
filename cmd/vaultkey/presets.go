package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	providerpkg "github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/migrate"
)

// presetClient is an OAuth client registration that an account's tokens
// belong to, and that "vaultkey login --client NAME" selects: the public
// client of another product, named by a preset. The ids and descriptions
// come from each provider's adapter (its Presets); what is here is how
// the command names, lists and matches them. authvault has no client of
// its own; choosing a preset is choosing that product's client, under
// its owner's terms.
type presetClient struct {
	// Provider is the provider id whose login the client is for.
	Provider string
	// Name is the preset's name, e.g. "claude-code".
	Name string
	// ID is the OAuth client id.
	ID string
	// Product names the product whose client it is, e.g. "Claude Code".
	Product string
	// Owner is whose terms govern the client's use, e.g. "Anthropic".
	Owner string
	// Doc says whose client it is and what using it implies.
	Doc string
}

// TermsNote is the one-line note printed when a preset is used.
func (c presetClient) TermsNote() string {
	return fmt.Sprintf("using the public client of %s (preset %s); use is subject to %s's terms", c.Product, c.Name, c.Owner)
}

// presetOwners names, per provider, the company whose terms govern its clients.
var presetOwners = map[string]string{
	anthropic.ProviderID: "Anthropic",
	openai.ProviderID:    "OpenAI",
	google.ProviderID:    "Google",
	copilot.Provider:     "GitHub",
	qwen.Provider:        "Qwen",
}

// presetProducts names the product of each known preset.
var presetProducts = map[string]string{
	"claude-code":    "Claude Code",
	"codex":          "the Codex CLI",
	"gemini-cli":     "Gemini CLI",
	"github-copilot": "GitHub Copilot's editor integrations",
	"qwen-code":      "Qwen Code",
}

// Descriptions of the presets whose adapters export only their ids.
const (
	githubCopilotDoc = "the GitHub App that GitHub's own Copilot editor integrations sign users in with; it belongs to GitHub, and applications are expected to register their own OAuth app"
	qwenCodeDoc      = "the public OAuth client of Qwen Code (QwenLM's qwen-code CLI); it belongs to that product, and Qwen discontinued the free tier of its OAuth sign-in in April 2026"
)

// presetClients returns the presets offered for provider's login, sorted by
// name; none for a provider without OAuth login.
func presetClients(provider string) []presetClient {
	var out []presetClient
	add := func(name, id, doc string) {
		product := presetProducts[name]
		if product == "" {
			product = name
		}
		out = append(out, presetClient{Provider: provider, Name: name, ID: id, Product: product, Owner: presetOwners[provider], Doc: doc})
	}
	var clients map[string]providerpkg.Client
	switch provider {
	case anthropic.ProviderID:
		clients = anthropic.Presets()
	case openai.ProviderID:
		clients = openai.Presets()
	case google.ProviderID:
		clients = google.Presets()
	case copilot.Provider:
		if id, ok := copilot.Preset("github-copilot"); ok {
			add("github-copilot", id, githubCopilotDoc)
		}
	case qwen.Provider:
		if id, ok := qwen.Preset("qwen-code"); ok {
			add("qwen-code", id, qwenCodeDoc)
		}
	}
	for _, c := range clients {
		add(c.Name, c.ID, c.Doc)
	}
	slices.SortFunc(out, func(a, b presetClient) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// lookupPreset returns provider's preset called name.
func lookupPreset(provider, name string) (presetClient, bool) {
	for _, c := range presetClients(provider) {
		if c.Name == name {
			return c, true
		}
	}
	return presetClient{}, false
}

// presetByID returns provider's preset whose client id is id.
func presetByID(provider, id string) (presetClient, bool) {
	for _, c := range presetClients(provider) {
		if c.ID == id {
			return c, true
		}
	}
	return presetClient{}, false
}

// describePresets lists provider's presets for a one-line message:
// "--client NAME (DOC); …", or "none" when it has none.
func describePresets(provider string) string {
	var parts []string
	for _, c := range presetClients(provider) {
		parts = append(parts, fmt.Sprintf("--client %s (%s)", c.Name, c.Doc))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// importPresets names, per migration source and provider, the preset
// whose client the source's tool signs in with. OpenCode signs in to
// Anthropic, OpenAI and GitHub Copilot with the same public clients as
// Claude Code, the Codex CLI and GitHub's editor integrations.
var importPresets = map[[2]string]string{
	{migrate.SourceClaudeCode, anthropic.ProviderID}: "claude-code",
	{migrate.SourceCodex, openai.ProviderID}:         "codex",
	{migrate.SourceGeminiCLI, google.ProviderID}:     "gemini-cli",
	{migrate.SourceQwenCode, qwen.Provider}:          "qwen-code",
	{migrate.SourceCopilot, copilot.Provider}:        "github-copilot",
	{migrate.SourceOpenCode, anthropic.ProviderID}:   "claude-code",
	{migrate.SourceOpenCode, openai.ProviderID}:      "codex",
	{migrate.SourceOpenCode, copilot.Provider}:       "github-copilot",
}

// importPreset returns the preset whose client issued the OAuth tokens
// that the migration source (migrate.SourceCodex…) holds for provider.
func importPreset(source, provider string) (presetClient, bool) {
	name, ok := importPresets[[2]string{source, provider}]
	if !ok {
		return presetClient{}, false
	}
	return lookupPreset(provider, name)
}
