package openai

import "github.com/authvault/authvault/records"

// NewAPIKeyRecord returns an API-key record in the default namespace,
// ready for the vault (which sets Created, Updated and Generation). Set
// Meta["organization"] and Meta["project"] to send those headers.
func NewAPIKeyRecord(label, key string) *records.Record {
	return &records.Record{
		Provider:  ProviderID,
		Namespace: records.DefaultNamespace,
		Label:     label,
		Kind:      records.KindAPI,
		API:       &records.APIKey{Key: records.Secret(key)},
	}
}
