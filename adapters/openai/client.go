package openai

// Client is a registered OAuth client that Login can use.
type Client struct {
	// Name selects the preset (vaultkey login --client NAME).
	Name string
	// ID is the OAuth client id.
	ID string
	// Port is the loopback port of the client's registered redirect URI
	// (http://localhost:PORT/auth/callback).
	Port int
	// Doc says whose client it is and what using it implies.
	Doc string
}

// PresetCodex is the public OAuth client of the Codex CLI, OpenAI's
// coding agent, registered with the redirect URI
// http://localhost:1455/auth/callback. Its tokens carry the ChatGPT
// plan's usage limits and are meant for Codex; select it only where
// OpenAI's terms allow your use.
var PresetCodex = Client{
	Name: "codex",
	ID:   "app_EMoamEEZ73f0CkXaXp7hrann",
	Port: 1455,
	Doc:  "the public OAuth client of the Codex CLI (redirect http://localhost:1455/auth/callback); its tokens are meant for Codex",
}

// Presets returns the named clients by name. The map is a fresh copy.
func Presets() map[string]Client {
	return map[string]Client{PresetCodex.Name: PresetCodex}
}
