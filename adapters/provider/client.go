package provider

// Client is an OAuth client registration a provider's login can use. The
// provider packages offer the public clients of other products as named
// presets (Presets, vaultkey login --client NAME); choosing one is
// choosing that product's client, under its owner's terms.
type Client struct {
	// Name selects the preset.
	Name string
	// ID is the OAuth client id.
	ID string
	// Secret is the client secret Google issues to installed (desktop)
	// applications. Google documents it as not confidential (it ships
	// inside every copy of the application); it is not the user's
	// credential. Empty for public clients.
	Secret string
	// Port is the loopback port of the client's registered redirect URI,
	// 0 when any port is accepted.
	Port int
	// PasteRedirectURI is a page the client may redirect to that shows
	// the code for pasting; "" when it has none.
	PasteRedirectURI string
	// DeviceFlow says the client may use the device authorization grant
	// (Google accepts only "TVs and Limited Input devices" clients).
	DeviceFlow bool
	// Doc says whose client it is and what using it implies.
	Doc string
}
