package openai

import (
	"github.com/authvault/authvault/adapters/internal/credential"
	"github.com/authvault/authvault/records"
)

// NewAPIKeyRecord returns an API-key record in the default namespace,
// ready for the vault (which sets Created, Updated and Generation). Set
// Meta["organization"] and Meta["project"] to send those headers.
func NewAPIKeyRecord(label, key string) *records.Record {
	return credential.APIKeyRecord(ProviderID, label, key)
}
