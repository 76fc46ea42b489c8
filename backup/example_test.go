package backup_test

import (
	"bytes"
	"fmt"
	"log"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/backup"
	"github.com/authvault/authvault/records"
)

// A backup of one record, encrypted to an age key, and read back.
func Example() {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	rec := &records.Record{Provider: "openai", Namespace: records.DefaultNamespace, Label: "work",
		Kind: records.KindAPI, API: &records.APIKey{Key: "sk-example-not-a-real-key"}}
	plain, err := backup.Marshal(&backup.Bundle{VaultID: "example", Exported: time.Now(), Records: []*records.Record{rec}, HasRecords: true})
	if err != nil {
		log.Fatal(err)
	}
	var file bytes.Buffer
	err = backup.Encrypt(&file, plain, []age.Recipient{id.Recipient()})
	clear(plain)
	if err != nil {
		log.Fatal(err)
	}

	plain, err = backup.Decrypt(&file, id)
	if err != nil {
		log.Fatal(err)
	}
	defer clear(plain)
	b, err := backup.Unmarshal(plain)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.VaultID, b.Records[0].ID(), b.Records[0].API.Key)
	// Output: example openai/default/work [REDACTED]
}
