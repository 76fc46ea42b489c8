package redisstore

import (
	"context"

	"github.com/authvault/authvault/vault"
)

// Importing the package makes redis:// and rediss:// URLs open through
// vault.OpenURL (and authvault.OpenVault), as importing a database/sql
// driver makes its name known: programs that never import it link no
// Redis client.
func init() {
	vault.Register("redis", openURL)
	vault.Register("rediss", openURL)
}

func openURL(ctx context.Context, url string) (vault.Store, string, error) {
	st, err := Open(ctx, url)
	if err != nil {
		return nil, "", err
	}
	return st, st.String(), nil
}
