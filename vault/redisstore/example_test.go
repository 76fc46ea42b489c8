package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

// Every replica of a service opens the same vault in Redis; the pool and
// transport on top of it need nothing else.
func ExampleOpen() {
	ctx := context.Background()
	identity, err := age.ParseX25519Identity(os.Getenv("AUTHVAULT_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	st, err := redisstore.Open(ctx, os.Getenv("AUTHVAULT_REDIS_URL")) // redis://:pw@host:6379/0?prefix=team-a
	if err != nil {
		log.Fatal(err) // *redisstore.UnavailableError when the server is out of reach
	}
	v, err := vault.Open(ctx, st.String(), []age.Identity{identity}, vault.WithStore(st))
	if err != nil {
		st.Close()
		log.Fatal(err)
	}
	defer v.Close() // closes st too
	rec, err := v.Get(ctx, records.ID{Provider: "anthropic", Namespace: "default", Label: "me@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.ID())
}

// A program that takes a directory or a URL for its vault imports the
// package for its side effect, and opens either through vault.OpenURL
// (or authvault.OpenVault, which also finds the key).
func Example_register() {
	for _, where := range []string{"/var/lib/authvault", "redis://cache:6379/0?prefix=team-a"} {
		if vault.IsURL(where) {
			fmt.Println("store URL:", where)
		} else {
			fmt.Println("directory:", where)
		}
	}
	// Output:
	// directory: /var/lib/authvault
	// store URL: redis://cache:6379/0?prefix=team-a
}

// Moving a vault to another prefix. The copy opens with the same keys.
func ExampleCopy() {
	ctx := context.Background()
	src, err := redisstore.Open(ctx, "redis://cache:6379/0?prefix=staging")
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	dst, err := redisstore.Open(ctx, "redis://cache:6379/0?prefix=production")
	if err != nil {
		log.Fatal(err)
	}
	defer dst.Close()
	if err := redisstore.Copy(ctx, src, dst); err != nil {
		log.Fatal(err) // vault.ErrExists if production already holds a vault
	}
}
