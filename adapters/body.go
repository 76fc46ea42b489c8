package adapters

import (
	"bytes"
	"io"
	"net/http"
)

// MaxErrorBody bounds how much of an error response Classify reads.
const MaxErrorBody = 64 << 10

// PeekBody reads up to limit bytes of resp.Body and puts back a body that
// yields the same bytes followed by whatever was not read, so the caller
// still sees the whole response. It returns the bytes read; a read error
// ends the peek early, and the error is left for the caller's own read.
func PeekBody(resp *http.Response, limit int64) []byte {
	if resp == nil || resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	buf, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	rest := resp.Body
	var tail io.Reader = rest
	if err != nil {
		tail = &errReader{err}
	}
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(buf), tail), closer: rest}
	return buf
}

type peekedBody struct {
	io.Reader
	closer io.Closer
}

func (b *peekedBody) Close() error { return b.closer.Close() }

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }
