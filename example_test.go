package authvault_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// The usual program: one line gives any SDK a client that rotates between
// the provider's accounts. With anthropic-sdk-go:
//
//	client := anthropic.NewClient(option.WithHTTPClient(hc), option.WithAPIKey(authvault.PlaceholderKey))
//
// (see the sdktest module for that exact use, tested, and the README's
// programs, which it compiles and runs). This example uses
// plain net/http, a vault in a temporary directory and a local server in
// place of the provider.
func ExampleHTTPClient() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "authvault-example-")
	defer os.RemoveAll(dir)

	// What `vaultkey init --key-store env` and `vaultkey accounts add-key`
	// do for an operator.
	id, _ := age.GenerateHybridIdentity()
	v, err := vault.Create(ctx, filepath.Join(dir, "vault"), []age.Recipient{id.Recipient()})
	if err != nil {
		log.Fatal(err)
	}
	for _, label := range []string{"first", "second"} {
		v.Put(ctx, &records.Record{Provider: "example", Namespace: "default", Label: label,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret("key-" + label)}})
	}
	v.Close()
	os.Setenv("AUTHVAULT_DIR", filepath.Join(dir, "vault"))
	os.Setenv("AUTHVAULT_KEY", id.String())
	defer os.Unsetenv("AUTHVAULT_DIR")
	defer os.Unsetenv("AUTHVAULT_KEY")

	// The provider: the first account is rate limited.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer key-first" {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "served by the second account")
	}))
	defer srv.Close()
	a, _ := bearer.New("example") // named providers (anthropic, openai…) need no adapter option

	// A credential goes only to its account's origins: the test server on
	// loopback is bound explicitly.
	hc, err := authvault.HTTPClient(ctx, "example", authvault.WithAdapter(a), authvault.WithOrigins(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 served by the second account
}

// Open returns the parts, to close them and to look at the accounts.
func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "authvault-example-")
	defer os.RemoveAll(dir)
	id, _ := age.GenerateX25519Identity()
	v, _ := vault.Create(ctx, filepath.Join(dir, "vault"), []age.Recipient{id.Recipient()})
	v.Put(ctx, &records.Record{Provider: "openai", Namespace: "default", Label: "work",
		Kind: records.KindAPI, API: &records.APIKey{Key: "sk-example"}})

	c, err := authvault.Open(ctx, "openai", authvault.WithVault(v))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	accts, _ := c.Pool.Accounts(ctx)
	for _, a := range accts {
		fmt.Println(a.ID, a.Availability)
	}
	// Output: openai/default/work ready
}
