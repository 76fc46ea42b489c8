package authvault

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

// HTTPClient-style wiring on a vault kept in Redis, selected by URL.
func TestOpenRedisURL(t *testing.T) {
	base := os.Getenv("AUTHVAULT_TEST_REDIS")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AUTHVAULT_TEST_REDIS must be set in CI")
		}
		t.Skip("AUTHVAULT_TEST_REDIS not set")
	}
	ctx := context.Background()
	url := fmt.Sprintf("%s?prefix=root-test-%d", base, time.Now().UnixNano())
	st, err := redisstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	v, err := vault.Create(ctx, st.String(), []age.Recipient{id.Recipient()}, vault.WithStore(st))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Put(ctx, &records.Record{Provider: "acme", Namespace: "default", Label: "one",
		Kind: records.KindAPI, API: &records.APIKey{Key: "key-one"}}); err != nil {
		t.Fatal(err)
	}
	v.Close()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	a, _ := bearer.New("acme")
	chain := &keysource.Chain{Sources: []keysource.Source{&keysource.Env{Getenv: func(k string) string {
		if k == keysource.EnvKey {
			return id.String()
		}
		return ""
	}}}}
	c, err := Open(ctx, "acme", WithDir(url), WithKeys(chain), WithAdapter(a))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
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
