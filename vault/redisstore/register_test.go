package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

// Importing the package is all it takes for authvault.Open to serve
// requests from a vault kept in Redis, named by URL (in any case), with
// the key from the environment.
func TestOpenByURL(t *testing.T) {
	raw := sharedURL(t)
	id := newIdentity(t)
	mustPut(t, createVault(t, raw, id), apiRecord("acme", "one", "key-one"))
	t.Setenv(keysource.EnvKey, id.String())

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	a, err := bearer.New("acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := authvault.Open(context.Background(), "acme", authvault.WithDir("REDIS"+strings.TrimPrefix(raw, "redis")), authvault.WithAdapter(a), authvault.WithOrigins(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.Vault.Dir(), "redis://") {
		t.Errorf("the vault is named %q, want its store's URL", c.Vault.Dir())
	}
	resp, err := c.HTTP.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "Bearer key-one" {
		t.Fatalf("got %q", b)
	}

	// vault.OpenURL hands back the store and the name to open it under;
	// a prefix with no vault behind it is vault.ErrNoVault.
	st, name, err := vault.OpenURL(context.Background(), sharedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := vault.StoreID(st); !errors.Is(err, vault.ErrNoVault) {
		t.Errorf("StoreID of an empty prefix: %v, want ErrNoVault", err)
	}
	if rs, ok := st.(*redisstore.Store); !ok || name != rs.String() {
		t.Errorf("got a %T named %q, want a *redisstore.Store under its own name", st, name)
	}
}
