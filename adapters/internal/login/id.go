package login

import (
	"fmt"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/records"
)

// ID fills in the provider and the default namespace of the account id a
// login is for, and refuses another provider's. It does not validate the
// label, which a login may only learn from the server.
func ID(provider string, id records.ID) (records.ID, error) {
	if id.Provider == "" {
		id.Provider = provider
	}
	if id.Namespace == "" {
		id.Namespace = records.DefaultNamespace
	}
	if id.Provider != provider {
		return id, fmt.Errorf("%s: record %s: %w", provider, id, bearer.ErrWrongProvider)
	}
	return id, nil
}
