package adapters

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

func respWith(body io.Reader) *http.Response {
	return &http.Response{StatusCode: 429, Body: io.NopCloser(body)}
}

func TestPeekAndReadBody(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, tt := range []struct {
		name  string
		body  io.Reader
		limit int64
		peek  string
		read  string
		err   bool
	}{
		{"whole body peeked", strings.NewReader("abc"), 10, "abc", "abc", false},
		{"empty", strings.NewReader(""), 10, "", "", false},
		{"longer than the peek", strings.NewReader(long), 10, long[:10], long, false},
		{"one byte past the peek", strings.NewReader(long[:11]), 10, long[:10], long[:11], false},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader("abcdef")), 3, "abc", "abcdef", false},
		{"error after the peek", io.MultiReader(strings.NewReader(long[:20]), iotest.ErrReader(errors.New("reset"))), 10, long[:10], long[:20], true},
		{"error within the peek", io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(errors.New("reset"))), 10, "ab", "ab", true},
	} {
		// The body's announced length sizes the peek's buffer: right,
		// unknown, or wrong (0, as a zero Response has).
		data, _ := io.ReadAll(tt.body)
		for _, length := range []int64{int64(len(tt.read)), -1, 0} {
			t.Run(fmt.Sprintf("%s/length=%d", tt.name, length), func(t *testing.T) {
				var body io.Reader = strings.NewReader(string(data))
				if tt.name == "one byte at a time" {
					body = iotest.OneByteReader(body)
				}
				if tt.err {
					body = io.MultiReader(body, iotest.ErrReader(errors.New("reset")))
				}
				resp := respWith(body)
				resp.ContentLength = length
				if got := PeekBody(resp, tt.limit); string(got) != tt.peek {
					t.Errorf("PeekBody = %q, want %q", got, tt.peek)
				}
				got, err := ReadBody(resp.Body, 1000)
				if string(got) != tt.read || (err != nil) != tt.err {
					t.Errorf("ReadBody = %q, %v; want %q, error %v", got, err, tt.read, tt.err)
				}
			})
		}
	}
	// The bound holds for a peeked body too.
	resp := respWith(strings.NewReader(long))
	PeekBody(resp, 50)
	if got, _ := ReadBody(resp.Body, 20); len(got) != 20 {
		t.Errorf("ReadBody read %d bytes past its bound of 20", len(got))
	}
}
