package keysource_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/authvault/authvault/keysource"
)

func ExampleDefault() {
	// A CI job has the vault key in AUTHVAULT_KEY. (Pass nil as getenv to
	// read the real environment; a map stands in for it here.)
	_, encoded, _, err := keysource.GenerateIdentity(keysource.PostQuantum)
	if err != nil {
		log.Fatal(err)
	}
	env := map[string]string{"AUTHVAULT_KEY": encoded}
	getenv := func(name string) string { return env[name] }

	ids, from, err := keysource.Default("personal", getenv).Resolve(context.Background())
	if err != nil {
		// A *keysource.NoKeyError says, source by source, why there is no key.
		log.Fatal(err)
	}
	fmt.Printf("%d identity from %s\n", len(ids), from.Name())
	// Output: 1 identity from env
}

func ExampleGenerateIdentity() {
	// What vaultkey init does: create a key and keep it in a new key file.
	dir, err := os.MkdirTemp("", "authvault-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	store := &keysource.File{Path: filepath.Join(dir, "key.txt")}

	if has, err := store.Has(ctx); err != nil || has {
		log.Fatal("a vault key exists already; not replacing it")
	}
	_, encoded, recipient, err := keysource.GenerateIdentity(keysource.PostQuantum)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Store(ctx, encoded); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("encrypt the vault to %s…\n", recipient[:7])

	// A store never overwrites a key.
	_, encoded2, _, _ := keysource.GenerateIdentity(keysource.PostQuantum)
	err = store.Store(ctx, encoded2)
	fmt.Println(errors.Is(err, keysource.ErrKeyExists))
	// Output:
	// encrypt the vault to age1pq1…
	// true
}
