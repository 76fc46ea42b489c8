//go:build unix

package securitytest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/cursor"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
)

// sink is a server that records every request it receives and the
// credential headers on it.
type sink struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "PATH CREDENTIAL"
}

func newSink(t *testing.T, tls bool, h http.HandlerFunc) *sink {
	s := &sink{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		cred := r.Header.Get("Authorization") + r.Header.Get("X-Api-Key") + r.Header.Get("X-Goog-Api-Key")
		s.mu.Lock()
		s.seen = append(s.seen, r.URL.Path+" "+cred)
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	})
	if tls {
		s.Server = httptest.NewTLSServer(handler)
	} else {
		s.Server = httptest.NewServer(handler)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *sink) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// originClient is a transport over one account of a's provider, holding
// rec, with extra origins bound.
func originClient(t *testing.T, a adapters.Adapter, rec *records.Record, base http.RoundTripper, origins ...string) *http.Client {
	t.Helper()
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	v, err := vault.Create(ctx, t.TempDir()+"/vault", []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	rec.Provider, rec.Namespace = a.Provider(), records.DefaultNamespace
	if _, err := v.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
	p, err := pool.Open(ctx, v, pool.KeyOf(rec.ID()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	opts := []transport.Option{transport.WithOrigins(origins...)}
	if base != nil {
		opts = append(opts, transport.WithBase(base))
	}
	return &http.Client{Transport: transport.New(p, a, opts...)}
}

// checkRefused checks that err is an *OriginError naming origin and the
// pool, and that it does not hold the credential.
func checkRefused(t *testing.T, err error, origin, pool, credential string) {
	t.Helper()
	var oe *transport.OriginError
	if !errors.As(err, &oe) || !errors.Is(err, transport.ErrOriginNotBound) {
		t.Fatalf("error %v, want a *transport.OriginError", err)
	}
	if string(oe.Origin) != origin || oe.Pool.String() != pool {
		t.Fatalf("refused origin %q pool %q, want %q %q", oe.Origin, oe.Pool, origin, pool)
	}
	if msg := err.Error(); !strings.Contains(msg, origin) || !strings.Contains(msg, pool) || strings.Contains(msg, credential) {
		t.Fatalf("error %q must name %s and %s and never the credential", msg, origin, pool)
	}
}

// A credential is attached only to a request whose origin is bound to the
// account serving it: a request to any other origin, the next hop of a
// redirect, and https turned http fail before anything is sent.
func TestCredentialsBoundToOrigins(t *testing.T) {
	const key = "sk-ant-api03-origin-canary-0123456789"
	apiKey := func() *records.Record {
		return &records.Record{Label: "work", Kind: records.KindAPI, API: &records.APIKey{Key: key}}
	}

	t.Run("unbound origin", func(t *testing.T) {
		other := newSink(t, false, nil)
		hc := originClient(t, anthropic.New(), apiKey(), nil)
		_, err := hc.Post(other.URL+"/v1/messages", "application/json", strings.NewReader(`{}`))
		checkRefused(t, err, other.URL, "anthropic/default", key)
		if got := other.requests(); len(got) != 0 {
			t.Fatalf("the unbound server received %v", got)
		}
	})

	t.Run("redirect to another origin", func(t *testing.T) {
		evil := newSink(t, false, nil)
		home := newSink(t, false, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+"/steal", http.StatusTemporaryRedirect)
		})
		hc := originClient(t, anthropic.New(), apiKey(), nil, home.URL)
		_, err := hc.Post(home.URL+"/v1/messages", "application/json", strings.NewReader(`{}`))
		checkRefused(t, err, evil.URL, "anthropic/default", key)
		if got := home.requests(); len(got) != 1 || got[0] != "/v1/messages "+key {
			t.Fatalf("the bound server received %v, want one request with the key", got)
		}
		if got := evil.requests(); len(got) != 0 {
			t.Fatalf("the redirect's target received %v", got)
		}
	})

	t.Run("https to http", func(t *testing.T) {
		secure := newSink(t, true, nil)
		plain := "http://" + strings.TrimPrefix(secure.URL, "https://")
		hc := originClient(t, anthropic.New(), apiKey(), secure.Client().Transport, secure.URL)
		resp, err := hc.Post(secure.URL+"/v1/messages", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		_, err = hc.Post(plain+"/v1/messages", "application/json", strings.NewReader(`{}`))
		checkRefused(t, err, plain, "anthropic/default", key)
		if got := secure.requests(); len(got) != 1 {
			t.Fatalf("the server received %v, want only the https request", got)
		}
	})

	// Every adapter moves a request addressed to its provider's default
	// base URL to the account's own base URL, binds that origin, and
	// refuses any other.
	custom, err := bearer.New("custom", bearer.WithBaseURL("https://api.custom.example/v1"))
	if err != nil {
		t.Fatal(err)
	}
	noBase, err := bearer.New("nobase")
	if err != nil {
		t.Fatal(err)
	}
	oauth := func() *records.Record {
		return &records.Record{Label: "work", Kind: records.KindOAuth, OAuth: &records.OAuth{Access: key, Refresh: "r", ClientID: "c"}}
	}
	cases := []struct {
		a       adapters.Adapter
		rec     *records.Record
		defBase string
		want    string // the credential header's value
	}{
		{anthropic.New(), apiKey(), anthropic.DefaultBaseURL, key},
		{openai.New(), apiKey(), openai.DefaultBaseURL, "Bearer " + key},
		{google.New(), apiKey(), google.DefaultBaseURL, key},
		{copilot.New(), oauth(), copilot.DefaultAPIURL, "Bearer " + key},
		{qwen.New(), oauth(), qwen.DefaultBaseURL, "Bearer " + key},
		{cursor.New(), apiKey(), cursor.DefaultBaseURL, "Bearer " + key},
		{custom, apiKey(), "https://api.custom.example/v1", "Bearer " + key},
		{noBase, apiKey(), "https://anywhere.example/v1", "Bearer " + key},
	}
	for _, c := range cases {
		t.Run("base url "+c.a.Provider(), func(t *testing.T) {
			own := newSink(t, false, nil)
			other := newSink(t, false, nil)
			c.rec.Meta = map[string]string{adapters.MetaBaseURL: own.URL + "/mine"}
			hc := originClient(t, c.a, c.rec, nil)
			resp, err := hc.Post(c.defBase+"/chat", "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := own.requests(); len(got) != 1 || !strings.HasPrefix(got[0], "/mine/") || !strings.HasSuffix(got[0], " "+c.want) {
				t.Fatalf("the account's base URL received %v", got)
			}
			if c.a.Provider() == "nobase" {
				return // every request goes to the account's base URL
			}
			_, err = hc.Post(other.URL+"/chat", "application/json", strings.NewReader(`{}`))
			checkRefused(t, err, other.URL, c.a.Provider()+"/default", key)
			if got := other.requests(); len(got) != 0 {
				t.Fatalf("an unbound server received %v", got)
			}
		})
	}
}
