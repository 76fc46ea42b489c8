// Command quickstart creates a vault in a temporary directory with a fresh
// key, stores an account's credential, reads it back from a second handle
// (as another process would), and checks the vault's integrity. It removes
// the directory when it ends.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "authvault-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "vault")

	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return err
	}
	v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		return err
	}
	defer v.Close()
	rec := &records.Record{
		Provider: "openai", Namespace: records.DefaultNamespace, Label: "work",
		Kind: records.KindAPI, API: &records.APIKey{Key: "sk-example-not-a-real-key"},
	}
	stored, err := v.Put(ctx, rec)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "stored %s (generation %d), key printed as %v\n", stored.ID(), stored.Generation, stored.API.Key)

	other, err := vault.Open(ctx, dir, []age.Identity{id})
	if err != nil {
		return err
	}
	defer other.Close()
	got, err := other.Get(ctx, rec.ID())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "read back %s from a second handle: key matches: %v\n", got.ID(), got.API.Key.Reveal() == rec.API.Key.Reveal())
	rep, err := other.Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verify: %d record(s), %d orphan(s), no problems\n", rep.Records, rep.Orphans)
	return nil
}
