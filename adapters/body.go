package adapters

import (
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
	buf, err := readUpTo(resp.Body, limit, resp.ContentLength)
	resp.Body = &peekedBody{buf: buf, rest: resp.Body, err: err}
	return buf
}

// readUpTo reads r until EOF or limit bytes, sizing its buffer by
// length when that is known (an error body is usually small).
func readUpTo(r io.Reader, limit, length int64) ([]byte, error) {
	size := int64(512)
	if length >= 0 {
		size = length + 1 // room to see EOF without growing
	}
	buf := make([]byte, 0, min(size, limit))
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// peekedBody yields buf, then rest (or err, when reading rest had failed).
type peekedBody struct {
	buf  []byte
	rest io.ReadCloser
	err  error
}

func (b *peekedBody) Read(p []byte) (int, error) {
	if len(b.buf) > 0 {
		n := copy(p, b.buf)
		b.buf = b.buf[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *peekedBody) Close() error { return b.rest.Close() }

// ReadBody reads r to its end, at most limit bytes. A body PeekBody put
// back whose peek already reached the end is returned as it is, without
// another copy.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	if pb, ok := r.(*peekedBody); ok && pb.err == nil && int64(len(pb.buf)) <= limit {
		var probe [1]byte
		n, err := pb.rest.Read(probe[:])
		if n == 0 && err == io.EOF {
			b := pb.buf
			pb.buf = nil
			return b, nil
		}
		if n > 0 {
			pb.buf = append(pb.buf[:len(pb.buf):len(pb.buf)], probe[0])
		}
		if err != nil {
			pb.err = err
		}
	}
	return io.ReadAll(io.LimitReader(r, limit))
}
