// Package credential holds what the first-party adapters (Anthropic,
// OpenAI, Google) do alike with a record's credential: Of finds the API
// key or OAuth access token that Authorize sends, Send puts it on a
// request when API keys have a header of their own, and APIKeyRecord
// builds an API-key record. Which header, and what else a provider wants
// sent with it, stays in each adapter.
package credential
