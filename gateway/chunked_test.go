package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestChunkedBodyForwarded: a body sent without a length (chunked, as
// node's fetch sends a stream) reaches the upstream whole.
func TestChunkedBodyForwarded(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "first", "second")
	e := newGateway(t, v)
	req, _ := http.NewRequest("POST", e.srv.URL+"/anthropic/v1/messages", io.MultiReader(strings.NewReader(`{"stream":true}`)))
	req.Header.Set("X-Api-Key", e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if readBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, s := range up.seen() {
		if s.body != `{"stream":true}` {
			t.Errorf("upstream (%s) got body %q", s.header.Get("X-Api-Key"), s.body)
		}
	}
}
