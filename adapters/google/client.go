package google

// Client is a registered OAuth client that the logins can use.
type Client struct {
	// Name selects the preset (vaultkey login --client NAME).
	Name string
	// ID is the OAuth client id.
	ID string
	// Secret is the client secret Google issues to installed (desktop)
	// applications. Google documents it as not confidential (it ships
	// inside every copy of the application); it is not the user's
	// credential.
	Secret string
	// PasteRedirectURI is a page the client may redirect to that shows
	// the code for pasting; "" when it has none.
	PasteRedirectURI string
	// DeviceFlow says the client is of the "TVs and Limited Input
	// devices" type, the only type Google's device flow accepts.
	DeviceFlow bool
	// Doc says whose client it is and what using it implies.
	Doc string
}

// PresetGeminiCLI is the public installed-application client of Gemini
// CLI, Google's command-line agent. Google's Gemini CLI documentation
// states that using Gemini CLI's OAuth client from third-party software
// violates Google's terms of service: select it only where Google's
// terms allow your use, or register your own desktop client in a Cloud
// project and pass its id and secret.
var PresetGeminiCLI = Client{
	Name:             "gemini-cli",
	ID:               "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com",
	Secret:           "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",
	PasteRedirectURI: "https://codeassist.google.com/authcode",
	Doc:              "the public installed-app OAuth client of Gemini CLI; Google's Gemini CLI documentation says using it from third-party software violates Google's terms",
}

// Presets returns the named clients by name. The map is a fresh copy.
func Presets() map[string]Client {
	return map[string]Client{PresetGeminiCLI.Name: PresetGeminiCLI}
}

// presetByID returns the preset with client id id.
func presetByID(id string) (Client, bool) {
	for _, c := range Presets() {
		if c.ID == id {
			return c, true
		}
	}
	return Client{}, false
}
