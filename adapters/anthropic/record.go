package anthropic

import "github.com/authvault/authvault/records"

// NewAPIKeyRecord returns an API-key record in the default namespace,
// ready for the vault (which sets Created, Updated and Generation).
func NewAPIKeyRecord(label, key string) *records.Record {
	return &records.Record{
		Provider:  ProviderID,
		Namespace: records.DefaultNamespace,
		Label:     label,
		Kind:      records.KindAPI,
		API:       &records.APIKey{Key: records.Secret(key)},
	}
}
