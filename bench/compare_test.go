package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/authvault/authvault/internal/vaulttest"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// TestStoreAlternativesAgree runs the setup of every BenchmarkStore case
// once: every alternative stores the same JSON document and reads back the
// record the vault holds, and only plain-json leaves the token readable on
// disk.
func TestStoreAlternativesAgree(t *testing.T) {
	ctx := context.Background()
	vs := newVaultStore(t, sampleRecord("me@example.com"))
	want := vs.stored[0]

	canonical, err := records.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(authJSONFrom(want))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, canonical) {
		t.Fatalf("authJSON marshals to %d bytes that differ from the %d bytes of records.Marshal", len(plain), len(canonical))
	}

	token := []byte(want.OAuth.Access.Reveal())
	v := vs.open(t)
	defer v.Close()
	for _, read := range []string{"cold", "hot"} {
		got, err := v.Get(ctx, want.ID())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("authvault-%s read another record (-want +got):\n%s", read, diff)
		}
	}
	if files := holding(t, vs.dir, token); len(files) > 0 {
		t.Errorf("the vault holds the access token in the clear in %v", files)
	}
	if _, err := v.Put(ctx, want); err != nil {
		t.Errorf("authvault put: %v", err)
	}

	for _, alt := range alternatives {
		t.Run(alt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := alt.open(t, dir)
			if err := s.put(authJSONFrom(want)); err != nil {
				t.Fatal(err)
			}
			a, err := s.get()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, a.record()); diff != "" {
				t.Errorf("read another record (-want +got):\n%s", diff)
			}
			files := holding(t, dir, token)
			if readable := len(files) > 0; readable != (alt.name == "plain-json") {
				t.Errorf("token readable on disk: %v, want only for plain-json", readable)
			}
		})
	}
}

// holding returns the files under dir whose bytes contain secret.
func holding(t *testing.T, dir string, secret []byte) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, secret) {
			out = append(out, filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRateLimited runs the setup of both BenchmarkRateLimited cases: the
// transport sends the request again at once on the second account, and
// go-retryablehttp waits for Retry-After and sends again with the same key.
// Nothing here waits for real time to pass.
func TestRateLimited(t *testing.T) {
	ctx := context.Background()
	t.Run("authvault", func(t *testing.T) {
		up := newUpstream(t, time.Now, key1, key2)
		// No WithMaxWait: the transport never waits for an account.
		f := newFailover(t, up)
		for round := 1; round <= 2; round++ {
			up.limitNext(key1)
			status, err := f.send()
			if err != nil {
				t.Fatal(err)
			}
			if status != 200 {
				t.Fatalf("round %d: status %d, want 200", round, status)
			}
			want := map[string]int{key1: round, key2: round}
			if diff := cmp.Diff(want, up.sent()); diff != "" {
				t.Fatalf("round %d: requests per key (-want +got):\n%s", round, diff)
			}
			acct, err := f.pool.Account(ctx, f.ids[0])
			if err != nil {
				t.Fatal(err)
			}
			if acct.Availability != pool.Cooling {
				t.Fatalf("round %d: acct1 is %v after its 429, want cooling", round, acct.Availability)
			}
			// What the benchmark does between two requests.
			if err := f.recover(ctx); err != nil {
				t.Fatal(err)
			}
			if acct, _ = f.pool.Account(ctx, f.ids[0]); acct.Availability != pool.Ready {
				t.Fatalf("round %d: acct1 is %v after recover, want ready", round, acct.Availability)
			}
		}
	})
	t.Run("retryablehttp", func(t *testing.T) {
		clock := vaulttest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
		up := newUpstream(t, clock.Now, key1)
		r := newRetrying(t, up, key1)
		// The wait retryablehttp asks for passes on the fake clock.
		var waits []time.Duration
		r.client.Backoff = func(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
			d := retryablehttp.DefaultBackoff(lo, hi, attempt, resp)
			waits = append(waits, d)
			clock.Advance(d)
			return 0
		}
		up.limitNext(key1)
		status, err := r.send()
		if err != nil {
			t.Fatal(err)
		}
		if status != 200 {
			t.Fatalf("status %d, want 200", status)
		}
		if diff := cmp.Diff([]time.Duration{retryAfter}, waits); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{key1: 2}, up.sent()); diff != "" {
			t.Errorf("requests per key (-want +got):\n%s", diff)
		}
	})
}

// TestSuccess runs the setup of every BenchmarkSuccess case: one request,
// one upstream request, a 200.
func TestSuccess(t *testing.T) {
	for _, c := range []struct {
		name string
		new  func(t *testing.T, up *upstream) sender
	}{
		{"bare", func(t *testing.T, up *upstream) sender { return newBare(t, up, key1) }},
		{"authvault", func(t *testing.T, up *upstream) sender { return newFailover(t, up) }},
		{"retryablehttp", func(t *testing.T, up *upstream) sender { return newRetrying(t, up, key1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			up := newUpstream(t, time.Now, key1, key2)
			status, err := c.new(t, up).send()
			if err != nil {
				t.Fatal(err)
			}
			if status != 200 {
				t.Fatalf("status %d, want 200", status)
			}
			if diff := cmp.Diff(map[string]int{key1: 1}, up.sent()); diff != "" {
				t.Errorf("requests per key (-want +got):\n%s", diff)
			}
		})
	}
}
