package cli

import (
	"encoding/json"
	"io"
)

// WriteJSON writes v to w as indented JSON followed by a newline. HTML
// characters are not escaped: the output is for people and programs, not
// for embedding in a web page.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
