package anthropic

import (
	"github.com/authvault/authvault/adapters/internal/credential"
	"github.com/authvault/authvault/records"
)

// NewAPIKeyRecord returns an API-key record in the default namespace,
// ready for the vault (which sets Created, Updated and Generation).
func NewAPIKeyRecord(label, key string) *records.Record {
	return credential.APIKeyRecord(ProviderID, label, key)
}
