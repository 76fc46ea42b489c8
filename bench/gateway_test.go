package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/gateway"
	"github.com/authvault/authvault/records"
)

// gatewayPath is the path a client sends to a gateway for a chat
// completion (its base URL is http://ADDR/openai/v1).
const gatewayPath = "/openai/v1/chat/completions"

// newBareProxy is what a gateway without authvault is: a plain
// httputil.ReverseProxy that strips /openai and sets one fixed key.
func newBareProxy(tb testing.TB, upstreamURL string) *httptest.Server {
	target, err := url.Parse(upstreamURL)
	if err != nil {
		tb.Fatal(err)
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = target.Scheme, target.Host
			pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, "/openai")
			pr.Out.URL.RawPath = ""
			pr.Out.Host = ""
			pr.Out.Header.Set("Authorization", "Bearer "+key1)
		},
		Transport:     newBase(tb),
		FlushInterval: -1,
	}
	srv := httptest.NewServer(p)
	tb.Cleanup(srv.Close)
	return srv
}

// newGateway is authvault's gateway over two OpenAI accounts served by
// upstreamURL, with a client token.
func newGateway(tb testing.TB, upstreamURL string) (*httptest.Server, string) {
	tb.Helper()
	ctx := context.Background()
	v := newVault(tb)
	for _, acct := range []struct{ label, key string }{{"acct1", key1}, {"acct2", key2}} {
		r := &records.Record{Provider: "openai", Namespace: records.DefaultNamespace, Label: acct.label,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(acct.key)},
			Meta: map[string]string{"base_url": upstreamURL + "/v1"}}
		if _, err := v.Put(ctx, r); err != nil {
			tb.Fatal(err)
		}
	}
	tok, err := gateway.AddClient(ctx, v, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	g, err := gateway.New(ctx, v, gateway.WithUpstreamTransport(newBase(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(g)
	tb.Cleanup(func() {
		srv.Close()
		g.Close()
	})
	return srv, tok
}

// proxyClient sends the chat request to a proxy, as a tool would.
type proxyClient struct {
	client *http.Client
	url    string
	token  string
}

func newProxyClient(tb testing.TB, base, token string) *proxyClient {
	return &proxyClient{client: &http.Client{Transport: newBase(tb)}, url: base + gatewayPath, token: token}
}

func (c *proxyClient) request(ctx context.Context, body string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, "POST", c.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	return req
}

func (c *proxyClient) send() (int, error) {
	return finish(c.client.Do(c.request(context.Background(), chatBody)))
}

// BenchmarkGateway sends a small chat request through a local proxy to
// the fake provider on loopback: a plain httputil.ReverseProxy with a
// fixed key (bare), and authvault's gateway (client token check, pool,
// transport, usage and metrics).
func BenchmarkGateway(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		up := newUpstream(b, time.Now, key1)
		loop(b, up, newProxyClient(b, newBareProxy(b, up.URL).URL, "unused"), nil)
	})
	b.Run("authvault", func(b *testing.B) {
		up := newUpstream(b, time.Now, key1, key2)
		srv, tok := newGateway(b, up.URL)
		loop(b, up, newProxyClient(b, srv.URL, tok), nil)
	})
}

// streamingUpstream is a fake provider that answers every request with an
// SSE stream: the first event at once, then events more events interval
// apart, each of size bytes.
func streamingUpstream(tb testing.TB, events int, interval time.Duration, size int) *httptest.Server {
	payload := strings.Repeat("x", size)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < events; i++ {
			if i > 0 {
				select {
				case <-time.After(interval):
				case <-r.Context().Done():
					return
				}
			}
			fmt.Fprintf(w, "data: {\"i\":%d,\"p\":%q}\n\n", i, payload)
			w.(http.Flusher).Flush()
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// firstByte sends a streaming request and returns how long the first
// byte of the answer took; the rest of the stream is read and dropped.
func firstByte(c *proxyClient) (time.Duration, error) {
	start := time.Now()
	resp, err := c.client.Do(c.request(context.Background(), `{"stream":true}`))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	var one [1]byte
	if _, err := io.ReadFull(resp.Body, one[:]); err != nil {
		return 0, err
	}
	d := time.Since(start)
	_, err = io.Copy(io.Discard, resp.Body)
	return d, err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkGatewayStream measures streams through the gateway.
//
// first-byte: per op, one streaming request straight to the provider
// (direct: the client's own base URL and key) and one through the
// gateway, alternately; the medians of both and what the gateway adds
// are reported (µs).
//
// concurrent=N: N streams at once through the gateway, each 1 KiB events
// 20 ms apart; the heap in use once all N are flowing, above the heap
// before, per stream (MB/stream; the client and the fake provider are in
// the same process and counted too). concurrent=8 and concurrent=64 show
// whether it stays flat.
func BenchmarkGatewayStream(b *testing.B) {
	b.Run("first-byte", func(b *testing.B) {
		up := streamingUpstream(b, 3, 0, 64)
		srv, tok := newGateway(b, up.URL)
		through := newProxyClient(b, srv.URL, tok)
		direct := newProxyClient(b, up.URL, key1)
		direct.url = up.URL + "/v1/chat/completions"
		var dg, dd []time.Duration
		for b.Loop() {
			d, err := firstByte(direct)
			if err != nil {
				b.Fatal(err)
			}
			g, err := firstByte(through)
			if err != nil {
				b.Fatal(err)
			}
			dd, dg = append(dd, d), append(dg, g)
		}
		md, mg := median(dd), median(dg)
		b.ReportMetric(float64(md.Microseconds()), "direct-p50-µs")
		b.ReportMetric(float64(mg.Microseconds()), "gateway-p50-µs")
		b.ReportMetric(float64((mg - md).Microseconds()), "added-p50-µs")
	})
	for _, n := range []int{8, 64} {
		b.Run(fmt.Sprintf("concurrent=%d", n), func(b *testing.B) {
			up := streamingUpstream(b, 50, 20*time.Millisecond, 1024)
			srv, tok := newGateway(b, up.URL)
			c := newProxyClient(b, srv.URL, tok)
			c.client.Transport.(*http.Transport).MaxIdleConnsPerHost = n
			var perStream float64
			for b.Loop() {
				perStream = concurrentStreams(b, c, n)
			}
			b.ReportMetric(perStream, "MB/stream")
		})
	}
}

// concurrentStreams opens n streams at once, measures the heap once all
// are flowing, reads them to the end, and returns MB in use per stream.
func concurrentStreams(b testing.TB, c *proxyClient, n int) float64 {
	runtime.GC()
	var before, during runtime.MemStats
	runtime.ReadMemStats(&before)
	var flowing, done sync.WaitGroup
	flowing.Add(n)
	done.Add(n)
	release := make(chan struct{})
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			resp, err := c.client.Do(c.request(context.Background(), `{"stream":true}`))
			if err != nil {
				errs <- err
				flowing.Done()
				return
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			_, err = br.ReadString('\n')
			flowing.Done()
			if err != nil {
				errs <- err
				return
			}
			<-release
			_, err = io.Copy(io.Discard, br)
			if err != nil {
				errs <- err
			}
		}()
	}
	flowing.Wait()
	runtime.ReadMemStats(&during)
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return float64(int64(during.HeapInuse)-int64(before.HeapInuse)) / float64(n) / (1 << 20)
}

// TestGatewayComparisonIsFair runs the setup of every BenchmarkGateway
// and BenchmarkGatewayStream case once: both proxies answer 200 with one
// upstream request sent with a known key, and a stream through the
// gateway reaches its client.
func TestGatewayComparisonIsFair(t *testing.T) {
	up := newUpstream(t, time.Now, key1, key2)
	bare := newProxyClient(t, newBareProxy(t, up.URL).URL, "unused")
	srv, tok := newGateway(t, up.URL)
	through := newProxyClient(t, srv.URL, tok)
	for name, c := range map[string]*proxyClient{"bare": bare, "authvault": through} {
		before := up.requests.Load()
		status, err := c.send()
		if err != nil || status != 200 {
			t.Fatalf("%s: status %d, %v", name, status, err)
		}
		if n := up.requests.Load() - before; n != 1 {
			t.Errorf("%s: %d upstream requests, want 1", name, n)
		}
	}
	if got := up.sent(); got[key1] != 2 {
		t.Errorf("the upstream saw %v: want both proxies to send the first key", got)
	}
	// Without a token the gateway sends nothing.
	status, err := newProxyClient(t, srv.URL, "wrong").send()
	if err != nil || status != 401 {
		t.Errorf("a wrong token: status %d, %v", status, err)
	}

	st := streamingUpstream(t, 3, time.Millisecond, 16)
	ssrv, stok := newGateway(t, st.URL)
	if _, err := firstByte(newProxyClient(t, ssrv.URL, stok)); err != nil {
		t.Fatal(err)
	}
	if mb := concurrentStreams(t, newProxyClient(t, ssrv.URL, stok), 4); mb > 16 {
		t.Errorf("%v MB per stream", mb)
	}
}
