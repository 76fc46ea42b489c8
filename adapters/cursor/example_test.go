package cursor_test

import (
	"fmt"

	"github.com/authvault/authvault/adapters/cursor"
	"github.com/authvault/authvault/records"
)

func ExampleNewRecord() {
	// In CI the key comes from the environment: os.Getenv(cursor.EnvAPIKey).
	rec, err := cursor.NewRecord(records.ID{Label: "ci"}, "crsr_example")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.ID(), rec.Kind)
	// Output: cursor/default/ci api
}
