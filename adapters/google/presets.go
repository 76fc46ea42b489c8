package google

import "github.com/authvault/authvault/adapters/provider"

// PresetGeminiCLI is the public installed-application client of Gemini
// CLI, Google's command-line agent. Google's Gemini CLI documentation
// states that using Gemini CLI's OAuth client from third-party software
// violates Google's terms of service: select it only where Google's
// terms allow your use, or register your own desktop client in a Cloud
// project and pass its id and secret.
var PresetGeminiCLI = provider.Client{
	Name:             "gemini-cli",
	ID:               "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com",
	Secret:           "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",
	PasteRedirectURI: "https://codeassist.google.com/authcode",
	Doc:              "the public installed-app OAuth client of Gemini CLI; Google's Gemini CLI documentation says using it from third-party software violates Google's terms",
}

// Presets returns the named clients by name. The map is a fresh copy.
func Presets() map[string]provider.Client {
	return map[string]provider.Client{PresetGeminiCLI.Name: PresetGeminiCLI}
}

// presetByID returns the preset with client id id.
func presetByID(id string) (provider.Client, bool) {
	for _, c := range Presets() {
		if c.ID == id {
			return c, true
		}
	}
	return provider.Client{}, false
}
