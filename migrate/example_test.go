package migrate_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/migrate"
	"github.com/authvault/authvault/vault"
)

// A migration: discover, plan (a dry run stops here), apply in one commit,
// and, only when asked, remove the imported source files.
func Example() {
	ctx := context.Background()
	home, err := os.MkdirTemp("", "migrate-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(home)
	// A Qwen Code login, as the tool leaves it.
	creds := `{"access_token": "example-access", "refresh_token": "example-refresh",
		"token_type": "Bearer", "resource_url": "portal.qwen.ai", "expiry_date": 1767240000000}`
	if err := os.MkdirAll(filepath.Join(home, ".qwen"), 0o700); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".qwen", "oauth_creds.json"), []byte(creds), 0o600); err != nil {
		log.Fatal(err)
	}

	identity, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	v, err := vault.Create(ctx, filepath.Join(home, "vault"), []age.Recipient{identity.Recipient()})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	found, problems := migrate.Discover(migrate.Env{Home: home}) // migrate.OSEnv() for the real one
	for _, p := range problems {
		fmt.Println("problem:", p)
	}
	plan, err := migrate.NewPlan(ctx, v, found, migrate.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range plan.Add {
		fmt.Println("add", c.Record.ID(), "from", c.Found.Source, "expires", c.Record.OAuth.Expiry.Format(time.RFC3339))
	}
	if err := migrate.Apply(ctx, v, plan); err != nil {
		log.Fatal(err)
	}
	removed, err := migrate.RemoveSources(plan)
	fmt.Println("removed", len(removed), "file(s), error:", err)
	// Output:
	// add qwen/default/qwen-code from qwen-code expires 2026-01-01T04:00:00Z
	// removed 1 file(s), error: <nil>
}

// Code that knows one account per provider stores a refreshed token pair;
// the account whose refresh token it replaces is updated.
func ExampleSetLegacy() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "migrate-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	identity, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	v, err := vault.Create(ctx, filepath.Join(dir, "vault"), []age.Recipient{identity.Recipient()})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	id, err := migrate.SetLegacy(ctx, v, "anthropic", migrate.LegacyInfo{Access: "access-1", Refresh: "refresh-1"})
	fmt.Println(id, err)
	id, err = migrate.SetLegacy(ctx, v, "anthropic", migrate.LegacyInfo{
		Access: "access-2", Refresh: "refresh-2", Expiry: time.Now().Add(time.Hour), OldRefresh: "refresh-1",
	})
	fmt.Println(id, err)
	// Output:
	// anthropic/default/default <nil>
	// anthropic/default/default <nil>
}
