//go:build unix

package securitytest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/internal/envelope"
	"github.com/authvault/authvault/migrate"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
)

// allocated runs fn and returns how many bytes it allocated (in the whole
// process: servers in the test count too, which only makes the bound
// stricter).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// endless writes a status and then a body that never ends, until the
// client goes away; it counts what it wrote.
func endless(status int, header http.Header, sent *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		chunk := []byte(`{"error":{"type":"rate_limit_error","message":"` + strings.Repeat("x", 32<<10) + `"}}`)
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

const memBound = 64 << 20

// Upstream error bodies are read bounded: an answer whose body never ends
// costs a bounded time and memory, whether the transport drains it to
// move on, keeps it to return, or classifies it.
func TestEndlessErrorBodyBounded(t *testing.T) {
	for _, status := range []int{429, 401, 529} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var sent atomic.Int64
			srv := httptest.NewServer(endless(status, http.Header{"Retry-After": {"30"}}, &sent))
			defer srv.Close()
			c := newCanaries(t)
			_, v := newBareVault(t, c)
			ctx := deadline(t, 60*time.Second)
			for _, label := range []string{"a", "b"} {
				if _, err := v.Put(ctx, provider.APIKeyRecord(anthropic.ProviderID, label, c.APIKey+label)); err != nil {
					t.Fatal(err)
				}
			}
			p, err := pool.Open(ctx, v, pool.Key{Provider: "anthropic", Namespace: "default"})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			hc := &http.Client{Transport: transport.New(p, anthropic.New(), transport.WithOrigins(srv.URL))}
			var status2 int
			mem := allocated(func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/messages", strings.NewReader("{}"))
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatalf("the request did not complete: %v", err)
				}
				status2 = resp.StatusCode
				if status == 529 {
					// Overloaded goes back to the caller as is: the stream is
					// the caller's, and closing it must not hang.
					resp.Body.Close()
					return
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if n > adapters.MaxErrorBody {
					t.Errorf("the returned error body is %d bytes, more than the %d read", n, adapters.MaxErrorBody)
				}
			})
			t.Logf("allocated %d KiB while the upstream sent %d KiB", mem>>10, sent.Load()>>10)
			if status2 != status {
				t.Errorf("caller got %d, want the upstream %d", status2, status)
			}
			if mem > memBound {
				t.Errorf("the request allocated %d MiB while the upstream sent %d MiB", mem>>20, sent.Load()>>20)
			}
		})
	}
}

// A token endpoint whose answer never ends fails the refresh within a
// bounded time and memory, for every adapter.
func TestEndlessTokenEndpointBounded(t *testing.T) {
	for _, rc := range refreshCases {
		for _, status := range []int{200, 400} {
			t.Run(fmt.Sprintf("%s/%d", rc.name, status), func(t *testing.T) {
				var sent atomic.Int64
				srv := httptest.NewServer(endless(status, http.Header{"Content-Type": {"application/json"}}, &sent))
				defer srv.Close()
				c := newCanaries(t)
				a := rc.adapter(t, srv.URL)
				ctx := deadline(t, 60*time.Second)
				var err error
				mem := allocated(func() {
					_, err = a.Refresh(ctx, srv.Client(), rc.record(c, srv.URL))
				})
				if err == nil || ctx.Err() != nil {
					t.Fatalf("Refresh: %v (context: %v)", err, ctx.Err())
				}
				t.Logf("allocated %d KiB while the endpoint sent %d KiB", mem>>10, sent.Load()>>10)
				if mem > memBound {
					t.Errorf("the refresh allocated %d MiB while the endpoint sent %d MiB", mem>>20, sent.Load()>>20)
				}
				c.checkErr(t, "refresh", err)
			})
		}
	}
}

// Rate-limit hints are capped: whatever a provider's headers or body say
// (a number too large to hold, a date in the year 9999, a negative
// value), an account is cooled down for at most provider.MaxRetryAfter (7
// days), and a rate limit for at most an hour by default.
func TestRetryAfterCapped(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	if provider.MaxRetryAfter != 7*24*time.Hour || pool.DefaultRateLimitHintCap != time.Hour {
		t.Fatalf("caps are %v and %v", provider.MaxRetryAfter, pool.DefaultRateLimitHintCap)
	}
	far := []string{"1e30", "100000000000000000000000000000000", "18446744073709551616", "9223372036854775807",
		"Fri, 31 Dec 9999 23:59:59 GMT", "Friday, 31-Dec-99 23:59:59 GMT", "Fri Dec 31 23:59:59 9999", "-5", "-1e30", "NaN", "Inf"}
	headers := []func(v string) http.Header{
		func(v string) http.Header { return http.Header{"Retry-After": {v}} },
		func(v string) http.Header { return http.Header{"Retry-After-Ms": {v}} },
		func(v string) http.Header {
			return http.Header{"X-Ratelimit-Reset-Requests": {v + "h"}, "X-Ratelimit-Remaining-Requests": {"0"}}
		},
		func(v string) http.Header {
			return http.Header{"Anthropic-Ratelimit-Unified-Status": {"rejected"}, "Anthropic-Ratelimit-Unified-Reset": {v}}
		},
		func(v string) http.Header {
			return http.Header{"Anthropic-Ratelimit-Requests-Remaining": {"0"}, "Anthropic-Ratelimit-Requests-Reset": {"9999-12-31T23:59:59Z"}}
		},
	}
	bodies := []string{
		`{}`,
		`{"error":{"type":"rate_limit_error","code":"rate_limit_exceeded","message":"Please retry in 99999999999h."}}`,
		`{"error":{"code":"insufficient_quota","type":"insufficient_quota"}}`,
		`{"error":{"type":"usage_limit_reached","resets_at":253402300799,"resets_in_seconds":1e30}}`,
		`{"type":"error","error":{"type":"invalid_request_error","message":"You will regain access on 9999-12-31 at 00:00 UTC","details":{"error_code":"enforced_spend_limit_reached"}}}`,
		`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Please retry in 99999999h","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"99999999999s"},{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"QUOTA_EXHAUSTED","metadata":{"quotaResetDelay":"99999999h","quotaResetTimeStamp":"9999-12-31T23:59:59Z"}}]}}`,
	}
	checked := 0
	for _, prov := range adapters.Providers() {
		a, _ := adapters.Lookup(prov)
		for _, status := range []int{429, 402, 403, 503, 529} {
			for _, hdr := range headers {
				for _, v := range far {
					for _, body := range bodies {
						resp := &http.Response{StatusCode: status, Header: hdr(v), Body: io.NopCloser(strings.NewReader(body))}
						out := a.Classify(resp, now)
						checked++
						if out.Until.IsZero() {
							continue
						}
						if out.Until.Before(now) || out.Until.After(now.Add(provider.MaxRetryAfter)) {
							t.Fatalf("%s: HTTP %d %v %s: cooldown until %v", prov, status, resp.Header, body, out.Until)
						}
					}
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d answers classified", checked)
	}

	// Through the pool: the cooldown an account actually gets.
	c := newCanaries(t)
	_, v := newBareVault(t, c)
	ctx := context.Background()
	if _, err := v.Put(ctx, provider.APIKeyRecord(anthropic.ProviderID, "a", c.APIKey)); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	p, err := pool.Open(ctx, v, pool.Key{Provider: "anthropic", Namespace: "default"}, pool.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, o := range []pool.Outcome{
		{Kind: pool.RateLimited, Until: now.Add(100000 * time.Hour)},
		{Kind: pool.QuotaExhausted, Until: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
	} {
		l, err := p.Acquire(ctx, pool.Hint{})
		if err != nil {
			if err := p.Reset(ctx, records.ID{Provider: "anthropic", Namespace: "default", Label: "a"}); err != nil {
				t.Fatal(err)
			}
			if l, err = p.Acquire(ctx, pool.Hint{}); err != nil {
				t.Fatal(err)
			}
		}
		p.Report(l, o)
		acct, err := p.Account(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		limit := provider.MaxRetryAfter
		if o.Kind == pool.RateLimited {
			limit = pool.DefaultRateLimitHintCap
		}
		if acct.Until.After(now.Add(limit)) {
			t.Errorf("%v: cooling until %v, more than %v", o.Kind, acct.Until, limit)
		}
	}
}

// Importers refuse hostile files quickly and with bounded memory: JSON
// nested a million levels deep, huge arrays, files larger than
// migrate.MaxFileSize (even sparse ones of 300 MiB), and /dev/zero.
func TestMigrateJSONBombBounded(t *testing.T) {
	dir := t.TempDir()
	n := migrate.MaxFileSize - 16
	docs := map[string]struct {
		data string
		want error
	}{
		"a million '['":          {strings.Repeat("[", n), migrate.ErrTooDeep},
		"objects nested deep":    {strings.Repeat(`{"a":`, n/5), migrate.ErrTooDeep},
		"huge array":             {`{"x":[` + strings.Repeat("0,", n/2-8) + `0]}`, nil},
		"huge array of strings":  {`{"x":[` + strings.Repeat(`"",`, n/3-8) + `""]}`, nil},
		"one huge string":        {`{"x":"` + strings.Repeat("a", n-16) + `"}`, nil},
		"many keys":              {`{` + manyKeys(n/12) + `}`, nil},
		"one byte over the size": {`"` + strings.Repeat("a", migrate.MaxFileSize) + `"`, migrate.ErrTooLarge},
	}
	for name, d := range docs {
		// Every source decodes with the same strict decoder: the two ends
		// of the list suffice for the large documents.
		srcs := migrate.Sources()
		if len(d.data) > 1<<10 {
			srcs = []migrate.Source{srcs[0], srcs[len(srcs)-1]}
		}
		for _, src := range srcs {
			var problems []migrate.Problem
			start := time.Now()
			mem := allocated(func() { _, problems = src.Parse("bomb.json", []byte(d.data)) })
			if len(problems) == 0 {
				t.Errorf("%s %s: accepted", src.Name, name)
				continue
			}
			if d.want != nil && !errors.Is(problems[0], d.want) {
				t.Errorf("%s %s: %v, want %v", src.Name, name, problems[0], d.want)
			}
			if !strings.Contains(problems[0].Error(), "bomb.json") {
				t.Errorf("%s %s: the problem does not name the file: %v", src.Name, name, problems[0])
			}
			t.Logf("%s %s: %d MiB, %v", src.Name, name, mem>>20, time.Since(start))
			// The bound is generous (the input is 1 MiB); what matters is
			// that it holds whatever the input's shape.
			if mem > 256<<20 {
				t.Errorf("%s %s: %d MiB allocated for a %d KiB file", src.Name, name, mem>>20, len(d.data)>>10)
			}
			if el := time.Since(start); el > 20*time.Second {
				t.Errorf("%s %s: took %v", src.Name, name, el)
			}
		}
	}
	for depth, tooDeep := range map[int]bool{16: false, 17: true} {
		doc := strings.Repeat("[", depth) + strings.Repeat("]", depth)
		_, problems := migrate.Sources()[0].Parse("deep.json", []byte(doc))
		if got := len(problems) > 0 && errors.Is(problems[0], migrate.ErrTooDeep); got != tooDeep {
			t.Errorf("nesting %d: %v, want too deep %v", depth, problems, tooDeep)
		}
	}
	sparse := filepath.Join(dir, "sparse.json")
	fh, _ := os.Create(sparse)
	fh.Truncate(300 << 20)
	fh.Close()
	zero := filepath.Join(dir, "zero.json")
	os.Symlink("/dev/zero", zero)
	for _, p := range []string{sparse, zero} {
		for _, src := range migrate.Sources() {
			var problems []migrate.Problem
			mem := allocated(func() { _, problems = src.ReadFile(p) })
			if len(problems) != 1 || !(errors.Is(problems[0], migrate.ErrTooLarge) || errors.Is(problems[0], migrate.ErrNotRegular)) {
				t.Errorf("%s %s: %v", src.Name, filepath.Base(p), problems)
			}
			if mem > 8<<20 {
				t.Errorf("%s %s: %d MiB allocated", src.Name, filepath.Base(p), mem>>20)
			}
		}
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":0`, i)
	}
	return b.String()
}

// Vault files are size-checked before they are read: a 300 MiB (sparse)
// manifest, record, header or state file is refused with a clear error,
// without reading it.
func TestOversizedVaultFilesRefused(t *testing.T) {
	ctx := context.Background()
	for _, which := range []string{"manifest", "vault.json", "record", "state", "vault.json of 2 MiB"} {
		t.Run(which, func(t *testing.T) {
			f := newFixture(t)
			f.v.Close()
			p := map[string]string{"manifest": filepath.Join(f.dir, "manifest.avm"), "vault.json": filepath.Join(f.dir, "vault.json"),
				"record": onlyFileOf(t, f, idAPI), "state": stateFileOf(t, f, "canary-state"),
				"vault.json of 2 MiB": filepath.Join(f.dir, "vault.json")}[which]
			size := int64(300 << 20)
			if which == "vault.json of 2 MiB" {
				size = 2 << 20
			}
			if err := os.Truncate(p, size); err != nil {
				t.Fatal(err)
			}
			var err error
			start := time.Now()
			mem := allocated(func() {
				var v *vault.Vault
				v, err = vault.Open(ctx, f.dir, []age.Identity{f.c.identity})
				if err != nil {
					return
				}
				defer v.Close()
				if which == "record" {
					_, err = v.Get(ctx, idAPI)
				} else {
					_, _, err = v.ReadState(ctx, "canary-state")
				}
			})
			if !errors.Is(err, vault.ErrCorrupt) || !strings.Contains(err.Error(), "larger than") {
				t.Errorf("got %v, want ErrCorrupt saying the file is too large", err)
			}
			if mem > 16<<20 {
				t.Errorf("%d MiB allocated for a file that should not be read", mem>>20)
			}
			if el := time.Since(start); el > 10*time.Second {
				t.Errorf("took %v", el)
			}
		})
	}
}

// A record whose plaintext is over records.MaxRecordSize (256 KiB) is
// refused, even sealed with the right key.
func TestOversizedRecordRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.v.Close()
	h, _ := readHeader(t, f.dir)
	keys, err := envelope.DeriveKeys(f.dataKey(t), h.VaultID)
	if err != nil {
		t.Fatal(err)
	}
	if records.MaxRecordSize != 256<<10 {
		t.Fatalf("MaxRecordSize is %d", records.MaxRecordSize)
	}
	e := entryOf(t, f.open(t), idAPI)
	pt := fmt.Sprintf(`{"v":1,"provider":"openai","namespace":"default","label":"bob@example.com","kind":"api","api":{"key":%q},"generation":%d}`,
		strings.Repeat("k", records.MaxRecordSize), e.Generation)
	base := "records/" + keys.FileName("record\x00"+idAPI.String())
	blob, err := keys.Seal(envelope.BlobRecord, base, []byte(pt))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, onlyFileOf(t, f, idAPI), blob)
	if _, err := f.open(t).Get(ctx, idAPI); !errors.Is(err, vault.ErrCorrupt) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Get: %v, want ErrCorrupt, record too large", err)
	}
}

// A manifest that claims a billion records (sealed with the right key,
// so it passes authentication) is refused before anything is allocated
// for them; so are manifests with a duplicate entry, an entry newer than
// the vault, an invalid id or trailing bytes.
func TestManifestClaimingBillionRecords(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.v.Close()
	h, _ := readHeader(t, f.dir)
	keys, err := envelope.DeriveKeys(f.dataKey(t), h.VaultID)
	if err != nil {
		t.Fatal(err)
	}
	for _, count := range []uint64{1_000_000_000, 1 << 22, 1 << 62} {
		pt := binary.AppendUvarint(nil, 1)
		pt = binary.AppendUvarint(pt, 10)
		pt = binary.AppendUvarint(pt, count)
		pt = append(pt, make([]byte, 64)...)
		blob, err := keys.Seal(envelope.BlobManifest, "manifest.avm", pt)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(f.dir, "manifest.avm"), blob)
		var oerr error
		mem := allocated(func() { _, oerr = vault.Open(ctx, f.dir, []age.Identity{f.c.identity}) })
		if !errors.Is(oerr, vault.ErrCorrupt) || !strings.Contains(oerr.Error(), fmt.Sprint(count)) {
			t.Errorf("%d entries: got %v", count, oerr)
		}
		if mem > 16<<20 {
			t.Errorf("%d entries: %d MiB allocated", count, mem>>20)
		}
	}
	entry := func(label string, gen uint64) []byte {
		var b []byte
		for _, s := range []string{"openai", "default", label} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		b = append(b, 'a')
		b = binary.AppendUvarint(b, gen)
		return binary.AppendVarint(b, 0)
	}
	manifest := func(gen uint64, entries ...[]byte) []byte {
		b := binary.AppendUvarint(nil, 1)
		b = binary.AppendUvarint(b, gen)
		b = binary.AppendUvarint(b, uint64(len(entries)))
		for _, e := range entries {
			b = append(b, e...)
		}
		return b
	}
	for name, pt := range map[string][]byte{
		"duplicate entry": manifest(5, entry("a", 1), entry("a", 2)),
		"entry newer":     manifest(5, entry("a", 6)),
		"invalid id":      manifest(5, entry("a/b", 1)),
		"trailing bytes":  append(manifest(5, entry("a", 1)), 0),
		"truncated entry": manifest(5, entry("a", 1)[:5]),
		"unknown kind":    manifest(5, append(entry("a", 1)[:len(entry("a", 1))-2], 'x', 1, 0)),
		"label too long":  manifest(5, entry(strings.Repeat("l", 256), 1)),
	} {
		blob, err := keys.Seal(envelope.BlobManifest, "manifest.avm", pt)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(f.dir, "manifest.avm"), blob)
		if _, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}); !errors.Is(err, vault.ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
}
