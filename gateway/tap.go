package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
)

// maxTapped bounds what the tap keeps of a body to read usage from: a
// JSON body larger than this, or one SSE line, is passed on uncounted.
const maxTapped = 1 << 20

// tap passes a response body through unchanged while reading token usage
// from it: the "usage" of a JSON body at its end, and of each SSE event
// as it goes by (Anthropic's message_start and message_delta, OpenAI's
// final chunk and response.completed, Google's usageMetadata). It never
// holds back a byte: what it keeps is a copy.
type tap struct {
	rc     io.ReadCloser
	sse    bool
	json   bool
	buf    []byte
	pooled *[]byte // where buf came from, for a JSON body
	over   bool    // the JSON body, or the current SSE line, is too long
	done   bool
	n      int64
	in     int64
	out    int64
	counts bool // a usage was found
}

func newTap(rc io.ReadCloser, contentType string) *tap {
	t := &tap{}
	t.init(rc, contentType)
	return t
}

func (t *tap) init(rc io.ReadCloser, contentType string) {
	t.rc = rc
	// The media type alone, without parameters: what mime.ParseMediaType
	// would return, without its allocations.
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	switch {
	case strings.EqualFold(mt, "text/event-stream"):
		t.sse = true
	case strings.EqualFold(mt, "application/json") || len(mt) > 5 && strings.EqualFold(mt[len(mt)-5:], "+json"):
		t.json = true
	}
}

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	t.n += int64(n)
	if n > 0 {
		switch {
		case t.sse:
			t.feedSSE(p[:n])
		case t.json && !t.over:
			if len(t.buf)+n > maxTapped {
				t.over = true
				t.release()
			} else {
				t.keep(p[:n])
			}
		}
	}
	if err == io.EOF && t.json && !t.over && !t.done {
		t.done = true
		t.parseWhole(t.buf)
		t.release()
	}
	return n, err
}

func (t *tap) Close() error {
	t.release()
	return t.rc.Close()
}

// bodyBufs are the buffers JSON bodies are kept in until their end:
// most answers are small, and one buffer serves request after request.
var bodyBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooled bounds the buffers kept for the next answers.
const maxPooled = 64 << 10

// keep appends p to the tap's copy of the body.
func (t *tap) keep(p []byte) {
	if t.buf == nil {
		t.pooled = bodyBufs.Get().(*[]byte)
		t.buf = (*t.pooled)[:0]
	}
	t.buf = append(t.buf, p...)
}

// release gives the body's buffer back.
func (t *tap) release() {
	if t.pooled != nil && cap(t.buf) <= maxPooled {
		*t.pooled = t.buf[:0]
		bodyBufs.Put(t.pooled)
	}
	t.pooled, t.buf = nil, nil
}

func (t *tap) feedSSE(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if !t.over {
				if len(t.buf)+len(p) > maxTapped {
					t.over, t.buf = true, t.buf[:0]
				} else {
					t.buf = append(t.buf, p...)
				}
			}
			return
		}
		line := p[:i]
		if len(t.buf) > 0 {
			line = append(t.buf, line...)
		}
		if !t.over {
			t.line(line)
		}
		t.buf, t.over = t.buf[:0], false
		p = p[i+1:]
	}
}

func (t *tap) line(line []byte) {
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok || !bytes.Contains(data, []byte(`"usage`)) { // "usage", "usageMetadata"
		return
	}
	var d usageDoc
	if json.Unmarshal(bytes.TrimSpace(data), &d) == nil {
		t.note(&d)
	}
}

func (t *tap) parseWhole(b []byte) {
	b = bytes.TrimSpace(b)
	if !bytes.Contains(b, []byte(`"usage`)) { // "usage", "usageMetadata": nothing to count
		return
	}
	if len(b) > 0 && b[0] == '[' { // Google's streamGenerateContent without SSE
		var ds []usageDoc
		if json.Unmarshal(b, &ds) == nil {
			for i := range ds {
				t.note(&ds[i])
			}
		}
		return
	}
	var d usageDoc
	if json.Unmarshal(b, &d) == nil {
		t.note(&d)
	}
}

// usageFields are the token counts of Anthropic's and OpenAI's usage
// objects. Anthropic counts cached input apart from input_tokens; all
// three are input.
type usageFields struct {
	InputTokens              int64 `json:"input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	PromptTokens             int64 `json:"prompt_tokens"`
	CompletionTokens         int64 `json:"completion_tokens"`
}

type usageDoc struct {
	Usage   *usageFields `json:"usage"`
	Message *struct {
		Usage *usageFields `json:"usage"`
	} `json:"message"` // Anthropic's message_start
	Response *struct {
		Usage *usageFields `json:"usage"`
	} `json:"response"` // OpenAI's response.completed
	UsageMetadata *struct {
		PromptTokenCount     int64 `json:"promptTokenCount"`
		CandidatesTokenCount int64 `json:"candidatesTokenCount"`
		ThoughtsTokenCount   int64 `json:"thoughtsTokenCount"`
	} `json:"usageMetadata"` // Google
}

// note takes the counts of one document. Every format's counts are
// running totals (a later event repeats or raises them), so the largest
// seen is the answer's.
func (t *tap) note(d *usageDoc) {
	u := d.Usage
	if u == nil && d.Message != nil {
		u = d.Message.Usage
	}
	if u == nil && d.Response != nil {
		u = d.Response.Usage
	}
	var in, out int64
	switch {
	case u != nil:
		in = u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens + u.PromptTokens
		out = u.OutputTokens + u.CompletionTokens
	case d.UsageMetadata != nil:
		in = d.UsageMetadata.PromptTokenCount
		out = d.UsageMetadata.CandidatesTokenCount + d.UsageMetadata.ThoughtsTokenCount
	default:
		return
	}
	t.counts = true
	t.in, t.out = max(t.in, in), max(t.out, out)
}
