package main

import (
	"strings"
	"testing"

	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/migrate"
)

func TestPresetClients(t *testing.T) {
	copilotID, _ := copilot.Preset("github-copilot")
	for _, tc := range []struct {
		provider, name, id, product, owner string
	}{
		{"anthropic", "claude-code", anthropic.PresetClaudeCode.ID, "Claude Code", "Anthropic"},
		{"openai", "codex", openai.PresetCodex.ID, "the Codex CLI", "OpenAI"},
		{"google", "gemini-cli", google.PresetGeminiCLI.ID, "Gemini CLI", "Google"},
		{"copilot", "github-copilot", copilotID, "GitHub Copilot's editor integrations", "GitHub"},
		{"qwen", "qwen-code", qwen.QwenCodeClientID, "Qwen Code", "Qwen"},
	} {
		c, ok := lookupPreset(tc.provider, tc.name)
		if !ok || c.ID != tc.id || c.Product != tc.product || c.Owner != tc.owner || c.Doc == "" || c.Provider != tc.provider {
			t.Errorf("lookupPreset(%s, %s) = %+v, %v", tc.provider, tc.name, c, ok)
			continue
		}
		if byID, ok := presetByID(tc.provider, tc.id); !ok || byID.Name != tc.name {
			t.Errorf("presetByID(%s, %s) = %+v, %v", tc.provider, tc.id, byID, ok)
		}
		want := "using the public client of " + tc.product + " (preset " + tc.name + "); use is subject to " + tc.owner + "'s terms"
		if got := c.TermsNote(); got != want {
			t.Errorf("TermsNote = %q, want %q", got, want)
		}
		if d := describePresets(tc.provider); !strings.Contains(d, "--client "+tc.name+" (") || strings.Contains(d, "\n") {
			t.Errorf("describePresets(%s) = %q", tc.provider, d)
		}
	}
	// A preset belongs to its provider only; cursor and custom providers
	// have none.
	if _, ok := lookupPreset("openai", "claude-code"); ok {
		t.Error("claude-code found for openai")
	}
	for _, p := range []string{"cursor", "acme", ""} {
		if cs := presetClients(p); len(cs) != 0 || describePresets(p) != "none" {
			t.Errorf("presetClients(%q) = %v", p, cs)
		}
	}
	if _, ok := presetByID("anthropic", "not-a-preset"); ok {
		t.Error("an unknown id matched a preset")
	}
}

func TestImportPreset(t *testing.T) {
	for _, tc := range []struct {
		source, provider, want string
	}{
		{migrate.SourceClaudeCode, "anthropic", "claude-code"},
		{migrate.SourceCodex, "openai", "codex"},
		{migrate.SourceGeminiCLI, "google", "gemini-cli"},
		{migrate.SourceQwenCode, "qwen", "qwen-code"},
		{migrate.SourceCopilot, "copilot", "github-copilot"},
		{migrate.SourceOpenCode, "anthropic", "claude-code"},
		{migrate.SourceOpenCode, "openai", "codex"},
		{migrate.SourceOpenCode, "copilot", "github-copilot"},
		{migrate.SourceOpenCode, "openrouter", ""},
		{migrate.SourceCodex, "anthropic", ""},
	} {
		c, ok := importPreset(tc.source, tc.provider)
		if got := c.Name; ok != (tc.want != "") || got != tc.want {
			t.Errorf("importPreset(%s, %s) = %q, %v; want %q", tc.source, tc.provider, got, ok, tc.want)
		}
	}
}
