package bench

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
)

// failover is authvault's side: a vault with two API-key accounts of the
// provider "fake", a pool over them and the transport, put together as
// authvault.Open does (write-behind pool state, fill-first order: acct1
// serves while it is ready).
type failover struct {
	url    string
	client *http.Client
	pool   *pool.Pool
	ids    []records.ID // acct1, acct2
}

// newVault creates an empty vault in a temporary directory, closed when
// the benchmark ends.
func newVault(tb testing.TB) *vault.Vault {
	tb.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		tb.Fatal(err)
	}
	v, err := vault.Create(context.Background(), filepath.Join(tb.TempDir(), "vault"), []age.Recipient{id.Recipient()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

func newFailover(tb testing.TB, up *upstream, opts ...transport.Option) *failover {
	tb.Helper()
	ctx := context.Background()
	v := newVault(tb)
	f := &failover{url: up.URL + "/v1/chat/completions"}
	err := v.Batch(ctx, func(b *vault.Batch) error {
		for _, acct := range []struct{ label, key string }{{"acct1", key1}, {"acct2", key2}} {
			r := &records.Record{Provider: "fake", Namespace: records.DefaultNamespace, Label: acct.label,
				Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(acct.key)}}
			if err := b.Put(r); err != nil {
				return err
			}
			f.ids = append(f.ids, r.ID())
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	f.pool, err = pool.Open(ctx, v, pool.Key{Provider: "fake", Namespace: records.DefaultNamespace}, pool.WithWriteBehind())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.pool.Close() })
	a, err := bearer.New("fake")
	if err != nil {
		tb.Fatal(err)
	}
	tr := transport.New(f.pool, a, append([]transport.Option{transport.WithBase(newBase(tb)), transport.WithOrigins(up.URL)}, opts...)...)
	f.client = &http.Client{Transport: tr}
	return f
}

// send posts one chat request; the transport picks the account.
func (f *failover) send() (int, error) {
	req, err := http.NewRequest(http.MethodPost, f.url, strings.NewReader(chatBody))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	return finish(f.client.Do(req))
}

// recover ends acct1's cooldown, so that the next request meets its rate
// limit again. It waits for the write-behind write of the last request
// first, so that no write from one request runs into the next one's time.
func (f *failover) recover(ctx context.Context) error {
	if err := f.pool.Flush(ctx); err != nil {
		return err
	}
	return f.pool.Reset(ctx, f.ids[0])
}

// retrying is hashicorp/go-retryablehttp with the one credential it is
// given: on a 429 it waits for Retry-After and sends again with the same
// key.
type retrying struct {
	url    string
	key    string
	client *retryablehttp.Client
}

func newRetrying(tb testing.TB, up *upstream, key string) *retrying {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: newBase(tb)}
	c.Logger = nil
	c.RetryMax = 3
	return &retrying{url: up.URL + "/v1/chat/completions", key: key, client: c}
}

func (r *retrying) send() (int, error) {
	req, err := retryablehttp.NewRequest(http.MethodPost, r.url, []byte(chatBody))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.key)
	return finish(r.client.Do(req))
}

// bare is net/http with the key set by hand: the floor.
type bare struct {
	url    string
	key    string
	client *http.Client
}

func newBare(tb testing.TB, up *upstream, key string) *bare {
	return &bare{url: up.URL + "/v1/chat/completions", key: key, client: &http.Client{Transport: newBase(tb)}}
}

func (c *bare) send() (int, error) {
	req, err := http.NewRequest(http.MethodPost, c.url, strings.NewReader(chatBody))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	return finish(c.client.Do(req))
}
