package gateway

import (
	"io"
	"strings"
	"testing"
)

// TestTapReadsUsage: the usage of each provider's answer, plain and
// streamed, whatever the read sizes; the body passes unchanged.
func TestTapReadsUsage(t *testing.T) {
	cases := []struct {
		name, contentType, body string
		in, out                 int64
	}{
		{"anthropic json", "application/json",
			`{"type":"message","usage":{"input_tokens":10,"cache_creation_input_tokens":3,"cache_read_input_tokens":2,"output_tokens":7}}`, 15, 7},
		{"anthropic sse", "text/event-stream",
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n" +
				"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"usage is a word\"}}\n\n" +
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n", 25, 15},
		{"openai chat json", "application/json; charset=utf-8",
			`{"object":"chat.completion","usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}`, 9, 6},
		{"openai chat sse", "text/event-stream",
			"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":6}}\n\ndata: [DONE]\n\n", 9, 6},
		{"openai responses sse", "text/event-stream",
			"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n\n" +
				"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":40,\"output_tokens\":12}}}\n\n", 40, 12},
		{"google sse", "text/event-stream",
			"data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":8,\"candidatesTokenCount\":2}}\r\n\r\n" +
				"data: {\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":8,\"candidatesTokenCount\":5,\"thoughtsTokenCount\":1}}\r\n\r\n", 8, 6},
		{"google json array", "application/json",
			`[{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1}},{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3}}]`, 4, 3},
		{"no usage", "application/json", `{"data":[{"id":"m"}]}`, 0, 0},
		{"chat answer without usage", "application/json",
			`{"object":"chat.completion","choices":[{"message":{"role":"assistant","content":"usage"}}]}`, 0, 0},
		{"media type case and suffix", "Application/Vnd.Example+JSON ; charset=utf-8",
			`{"usage":{"input_tokens":3,"output_tokens":2}}`, 3, 2},
		{"not json", "text/plain", `usage: 5`, 0, 0},
		{"broken json", "application/json", `{"usage":{"input_tokens":`, 0, 0},
	}
	for _, c := range cases {
		for _, chunk := range []int{1, 7, 4096} {
			tp := newTap(io.NopCloser(&chunked{s: c.body, n: chunk}), c.contentType)
			got, err := io.ReadAll(tp)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.body || tp.n != int64(len(c.body)) {
				t.Errorf("%s/%d: body changed", c.name, chunk)
			}
			if tp.in != c.in || tp.out != c.out {
				t.Errorf("%s/%d: tokens in %d out %d, want %d %d", c.name, chunk, tp.in, tp.out, c.in, c.out)
			}
		}
	}
}

// TestTapBounds: a JSON body or SSE line over the bound is passed on
// whole and not kept.
func TestTapBounds(t *testing.T) {
	huge := `{"pad":"` + strings.Repeat("x", maxTapped) + `","usage":{"input_tokens":1,"output_tokens":1}}`
	tp := newTap(io.NopCloser(strings.NewReader(huge)), "application/json")
	if got, _ := io.ReadAll(tp); len(got) != len(huge) || tp.counts || len(tp.buf) != 0 {
		t.Errorf("oversize JSON: %d bytes passed, counted %v, %d kept", len(got), tp.counts, len(tp.buf))
	}
	sse := "data: " + huge + "\n\ndata: {\"usage\":{\"input_tokens\":2,\"output_tokens\":3}}\n\n"
	tp = newTap(io.NopCloser(&chunked{s: sse, n: 1000}), "text/event-stream")
	if got, _ := io.ReadAll(tp); len(got) != len(sse) || tp.in != 2 || tp.out != 3 {
		t.Errorf("oversize SSE line: %d bytes, in %d out %d", len(got), tp.in, tp.out)
	}
}

// chunked reads s n bytes at a time.
type chunked struct {
	s string
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := min(c.n, len(p), len(c.s))
	copy(p, c.s[:k])
	c.s = c.s[k:]
	return k, nil
}

// FuzzTap: whatever a provider sends, the tap passes it on byte for byte,
// keeps at most its bound, and counts no negative tokens.
func FuzzTap(f *testing.F) {
	f.Add("text/event-stream", "data: {\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}\n\n", 3)
	f.Add("application/json", `{"usage":{"prompt_tokens":1,"completion_tokens":2}}`, 1)
	f.Add("application/json", `[{"usageMetadata":{"promptTokenCount":1}}]`, 2)
	f.Fuzz(func(t *testing.T, contentType, body string, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		tp := newTap(io.NopCloser(&chunked{s: body, n: chunk}), contentType)
		got, err := io.ReadAll(tp)
		if err != nil || string(got) != body {
			t.Fatalf("body changed: %v", err)
		}
		if len(tp.buf) > maxTapped || tp.in < 0 || tp.out < 0 {
			t.Fatalf("kept %d bytes, in %d out %d", len(tp.buf), tp.in, tp.out)
		}
	})
}
