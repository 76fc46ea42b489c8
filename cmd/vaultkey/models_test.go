package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/internal/oauthtest"
	"github.com/authvault/authvault/records"
)

// modelServer is an OpenAI-compatible /v1/models endpoint that counts
// its requests and answers conditional ones with 304.
type modelServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	status   int // 0: 200
}

const modelsETag = `"list-v1"`

func newModelServer(t *testing.T) *modelServer {
	m := &modelServer{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests = append(m.requests, r.Clone(context.Background()))
		status := m.status
		m.mu.Unlock()
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		if status != 0 {
			oauthtest.WriteJSON(w, status, map[string]any{"error": map[string]string{"type": "authentication_error", "code": "invalid_api_key"}})
			return
		}
		if r.Header.Get("If-None-Match") == modelsETag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", modelsETag)
		oauthtest.WriteJSON(w, 200, map[string]any{"object": "list", "data": []map[string]string{
			{"id": "model-b", "owned_by": "acme"}, {"id": "model-a", "owned_by": "acme"},
		}})
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *modelServer) calls() []*http.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*http.Request(nil), m.requests...)
}

func TestModels(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	srv := newModelServer(t)
	base := srv.URL + "/v1"
	s.addKey("openai", "work", "sk-canary-models-openai")

	r := s.run(0, "models", "openai", "--base-url", base)
	if r.stdout != "model-a\nmodel-b\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	calls := srv.calls()
	if len(calls) != 1 || calls[0].Header.Get("Authorization") != "Bearer sk-canary-models-openai" {
		t.Fatalf("calls: %d, authorization %q", len(calls), calls[0].Header.Get("Authorization"))
	}

	// A fresh cached list is served without asking, to every process.
	if r := s.run(0, "models", "openai", "--base-url", base, "--json"); !strings.Contains(r.stdout, `"id": "model-a"`) {
		t.Errorf("--json: %s", r.stdout)
	}
	var models []struct{ ID, OwnedBy string }
	json.Unmarshal([]byte(s.run(0, "models", "openai", "--base-url", base, "--json").stdout), &models)
	if len(models) != 2 || models[0].ID != "model-a" {
		t.Errorf("--json: %+v", models)
	}
	if n := len(srv.calls()); n != 1 {
		t.Errorf("the cached list was not used: %d calls", n)
	}

	// --refresh asks again, unconditionally.
	s.run(0, "models", "openai", "--base-url", base, "--refresh")
	calls = srv.calls()
	if len(calls) != 2 || calls[1].Header.Get("If-None-Match") != "" {
		t.Errorf("--refresh: %d calls, If-None-Match %q", len(calls), calls[len(calls)-1].Header.Get("If-None-Match"))
	}

	// Past the TTL the list is revalidated with its ETag: a 304 serves
	// the cached list.
	if r := s.run(0, "models", "openai", "--base-url", base, "--ttl", "0s"); r.stdout != "model-a\nmodel-b\n" {
		t.Errorf("after a 304: %q", r.stdout)
	}
	calls = srv.calls()
	if len(calls) != 3 || calls[2].Header.Get("If-None-Match") != modelsETag {
		t.Errorf("revalidation: %d calls, If-None-Match %q", len(calls), calls[len(calls)-1].Header.Get("If-None-Match"))
	}

	// The cache lives in the vault's sealed state: another base URL is
	// another entry.
	s.addKey("anthropic", "key", "sk-ant-canary-models")
	if r := s.run(0, "models", "anthropic", "--base-url", base); r.stdout != "model-a\nmodel-b\n" {
		t.Errorf("anthropic: %q", r.stdout)
	}
	calls = srv.calls()
	if last := calls[len(calls)-1]; last.Header.Get("x-api-key") != "sk-ant-canary-models" || last.Header.Get("anthropic-version") == "" {
		t.Errorf("anthropic request headers: %v", last.Header)
	}

	// The server's refusal is reported, without the key.
	srv.mu.Lock()
	srv.status = 401
	srv.mu.Unlock()
	if r := s.run(1, "models", "openai", "--base-url", base, "--refresh"); !strings.Contains(r.stderr, "HTTP 401") {
		t.Errorf("401:\n%s", r)
	}
}

func TestModelsAccounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSandbox(t)
	s.initFile()
	srv := newModelServer(t)
	base := srv.URL + "/v1"

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"cursor"}, 1, "no OpenAI-compatible model list"},
		{[]string{"openai"}, 1, "no openai accounts"},
		{[]string{}, 2, "name exactly one provider"},
		{[]string{"openai", "--base-url", "ftp://x"}, 2, "--base-url"},
	} {
		if r := s.run(tc.code, append([]string{"models"}, tc.args...)...); !strings.Contains(r.stderr, tc.want) {
			t.Errorf("models %v: want %q:\n%s", tc.args, tc.want, r.stderr)
		}
	}

	// ChatGPT sign-in tokens cannot list models: said so, nothing sent.
	v := openVault(t, s.dir, s.identitiesFromFile())
	put := func(r *records.Record) {
		t.Helper()
		if _, err := v.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	s.addSecret("CANARY-chatgpt-access")
	put(&records.Record{Provider: "openai", Namespace: "default", Label: "chatgpt", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: "CANARY-chatgpt-access", Refresh: "CANARY-chatgpt-refresh", Expiry: time.Now().Add(time.Hour)}})
	if r := s.run(1, "models", "openai", "--base-url", base); !strings.Contains(r.stderr, "ChatGPT sign-in") || len(srv.calls()) != 0 {
		t.Errorf("ChatGPT account:\n%s", r)
	}

	// An expired OAuth token is refreshed (once, and stored) first.
	f := newFakeAuth(t)
	s.addSecret("sk-ant-oat01-CANARY-models-old")
	s.addSecret("sk-ant-ort01-CANARY-models-old")
	s.addSecret("sk-ant-oat01-CANARY-models-new")
	s.addSecret("sk-ant-ort01-CANARY-models-new")
	f.Set(func(f *oauthtest.Server) {
		f.Token = func(p map[string]string) oauthtest.Reply {
			if p["grant_type"] != "refresh_token" || p["refresh_token"] != "sk-ant-ort01-CANARY-models-old" || p["client_id"] != "my-client" {
				return oauthtest.Reply{Status: 400, Body: map[string]string{"error": "invalid_grant"}}
			}
			return oauthtest.Reply{Status: 200, Body: map[string]any{"access_token": "sk-ant-oat01-CANARY-models-new", "refresh_token": "sk-ant-ort01-CANARY-models-new", "expires_in": 3600}}
		}
	})
	put(&records.Record{Provider: "anthropic", Namespace: "team", Label: "sub", Kind: records.KindOAuth,
		OAuth: &records.OAuth{Access: "sk-ant-oat01-CANARY-models-old", Refresh: "sk-ant-ort01-CANARY-models-old",
			Expiry: time.Now().Add(-time.Hour), ClientID: "my-client", TokenURL: f.TokenURL()}})
	if r := s.run(0, "models", "anthropic", "--namespace", "team", "--base-url", base); r.stdout != "model-a\nmodel-b\n" {
		t.Errorf("after a refresh: %s", r)
	}
	calls := srv.calls()
	if last := calls[len(calls)-1]; last.Header.Get("Authorization") != "Bearer sk-ant-oat01-CANARY-models-new" {
		t.Errorf("the request was not sent with the refreshed token")
	}
	rec := getRecord(t, s, "anthropic/team/sub")
	if rec.OAuth.Refresh.Reveal() != "sk-ant-ort01-CANARY-models-new" || !rec.OAuth.Expiry.After(time.Now()) {
		t.Error("the refreshed token was not stored")
	}
	if n := len(f.TokenRequests()); n != 1 {
		t.Errorf("%d refreshes", n)
	}

	// A provider vaultkey does not know: its base URL from the account
	// (add-key refuses one without; a record from elsewhere may lack it).
	s.addSecret("sk-canary-acme")
	if _, err := v.Put(ctx, &records.Record{Provider: "acme", Namespace: "default", Label: "one",
		Kind: records.KindAPI, API: &records.APIKey{Key: "sk-canary-acme"}}); err != nil {
		t.Fatal(err)
	}
	if r := s.run(1, "models", "acme"); !strings.Contains(r.stderr, "--base-url") {
		t.Errorf("unknown provider without a base URL:\n%s", r)
	}
	if _, err := v.Update(ctx, records.ID{Provider: "acme", Namespace: "default", Label: "one"}, func(r *records.Record) error {
		r.Meta = map[string]string{"base_url": base}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := s.run(0, "models", "acme"); r.stdout != "model-a\nmodel-b\n" {
		t.Errorf("acme: %s", r)
	}
	calls = srv.calls()
	if last := calls[len(calls)-1]; last.Header.Get("Authorization") != "Bearer sk-canary-acme" {
		t.Errorf("acme authorization %q", last.Header.Get("Authorization"))
	}
}
