package cli

import (
	"strings"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	var b strings.Builder
	if err := WriteJSON(&b, map[string]string{"reason": "a < b & c"}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\n  \"reason\": \"a < b & c\"\n}\n" {
		t.Errorf("WriteJSON = %q", b.String())
	}
}
