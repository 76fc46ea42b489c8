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
// requests from a vault kept in Redis, named by URL.
func TestOpenByURL(t *testing.T) {
	ctx := context.Background()
	raw := sharedURL(t)
	id := newIdentity(t)
	v := createVault(t, raw, id)
	mustPut(t, v, apiRecord("acme", "one", "key-one"))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	a, err := bearer.New("acme")
	if err != nil {
		t.Fatal(err)
	}
	chain := &keysource.Chain{Sources: []keysource.Source{&keysource.Env{Getenv: func(k string) string {
		if k == keysource.EnvKey {
			return id.String()
		}
		return ""
	}}}}
	c, err := authvault.Open(ctx, "acme", authvault.WithDir(raw), authvault.WithKeys(chain), authvault.WithAdapter(a))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Vault.ID() != v.ID() {
		t.Errorf("opened vault %s, want %s", c.Vault.ID(), v.ID())
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
}

// The registered opener hands back the store and the name to open it
// under; the scheme is case-insensitive, and a prefix with no vault
// behind it is vault.ErrNoVault.
func TestOpenURL(t *testing.T) {
	ctx := context.Background()
	raw := sharedURL(t)
	for _, u := range []string{raw, "REDIS" + strings.TrimPrefix(raw, "redis")} {
		st, name, err := vault.OpenURL(ctx, u)
		if err != nil {
			t.Fatalf("OpenURL(%s): %v", u, err)
		}
		if _, err := vault.StoreID(st); !errors.Is(err, vault.ErrNoVault) {
			t.Errorf("StoreID of an empty prefix: %v, want ErrNoVault", err)
		}
		if rs, ok := st.(*redisstore.Store); !ok || name != rs.String() {
			t.Errorf("got a %T named %q, want a *redisstore.Store under its own name", st, name)
		}
		st.Close()
	}
}
