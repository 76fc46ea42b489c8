package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/pool"
)

// oauthServer is a token endpoint whose refresh tokens are single-use: a
// reused one revokes the whole family, as providers with refresh-token
// rotation do. It issues access tokens the upstream accepts.
type oauthServer struct {
	*httptest.Server
	mu      sync.Mutex
	live    map[string]string // refresh token -> family
	revoked map[string]bool   // family
	used    map[string]bool   // refresh tokens already exchanged
	grants  int
	reuses  int
	n       int
	onIssue func(access string)
	fail    string // an OAuth error code to answer every grant with
}

func newOAuthServer(t testing.TB, refreshTokens ...string) *oauthServer {
	s := &oauthServer{live: map[string]string{}, revoked: map[string]bool{}, used: map[string]bool{}}
	for _, r := range refreshTokens {
		s.live[r] = r
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.token))
	t.Cleanup(s.Close)
	return s
}

func (s *oauthServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "refresh_token" {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	rt := r.Form.Get("refresh_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants++
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":%q,"error_description":"refresh refused"}`, code)
	}
	if s.fail != "" {
		fail(s.fail)
		return
	}
	if s.used[rt] {
		s.reuses++
		s.revoked[s.live[rt]] = true
		fail("invalid_grant")
		return
	}
	fam, ok := s.live[rt]
	if !ok || s.revoked[fam] {
		fail("invalid_grant")
		return
	}
	s.used[rt] = true
	s.n++
	access := fmt.Sprintf("fresh-access-%d", s.n)
	next := fmt.Sprintf("fresh-refresh-%d", s.n)
	s.live[next] = fam
	if s.onIssue != nil {
		s.onIssue(access)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "refresh_token": next, "token_type": "Bearer", "expires_in": 3600})
}

func (s *oauthServer) counts() (grants, reuses int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants, s.reuses
}

func TestUnauthorizedRefreshesOnceThenSameAccount(t *testing.T) {
	ctx := context.Background()
	var events []Event
	var mu sync.Mutex
	obs := func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	srv := newOAuthServer(t, "ref1", "ref2")
	e := newEnv(t, envOpt{accounts: 2, oauth: true, tokenURL: srv.URL, trOpts: []Option{WithObserver(obs)}})
	srv.onIssue = func(access string) { e.up.set(access, ok) }
	// tok1 has no behaviour: a revoked access token, 401.
	e.up.set("tok2", ok)
	resp, err := e.post(ctx, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := e.up.tokens(); len(got) != 2 || got[0] != "tok1" || got[1] != "fresh-access-1" {
		t.Fatalf("upstream saw %v", got)
	}
	if g, _ := srv.counts(); g != 1 {
		t.Fatalf("%d refresh grants", g)
	}
	rec, err := e.v.Get(ctx, e.ids[0])
	if err != nil || rec.OAuth.Access != "fresh-access-1" || rec.OAuth.Refresh != "fresh-refresh-1" {
		t.Fatalf("stored record: %v %v", rec, err)
	}
	var refreshed bool
	for _, ev := range events {
		refreshed = refreshed || ev.Kind == EventRefresh && ev.Err == nil && !ev.Adopted
	}
	if !refreshed {
		t.Error("no refresh event")
	}
}

func TestExpiredTokenRefreshedBeforeUse(t *testing.T) {
	ctx := context.Background()
	srv := newOAuthServer(t, "ref1")
	e := newEnv(t, envOpt{accounts: 1, oauth: true, tokenURL: srv.URL})
	srv.onIssue = func(access string) { e.up.set(access, ok) }
	e.up.set("tok1", ok)
	e.clock.Advance(59 * time.Minute) // within the 2-minute skew of the 1h expiry
	resp, err := e.post(ctx, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if got := e.up.tokens(); len(got) != 1 || got[0] != "fresh-access-1" {
		t.Fatalf("upstream saw %v, want only the refreshed token", got)
	}
}

func TestRefreshFailureMarksReauthAndMovesOn(t *testing.T) {
	ctx := context.Background()
	srv := newOAuthServer(t)
	srv.fail = "invalid_grant"
	e := newEnv(t, envOpt{accounts: 2, oauth: true, tokenURL: srv.URL})
	e.up.set("tok2", ok)
	resp, err := e.post(ctx, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := e.up.tokens(); len(got) != 2 || got[1] != "tok2" {
		t.Fatalf("upstream saw %v", got)
	}
	acct, _ := e.pool.Account(ctx, e.ids[0])
	if acct.Availability != pool.ReauthNeeded {
		t.Fatalf("account 1 is %v, want needs re-authentication", acct.Availability)
	}
	// The flag is persisted: a new pool on the vault skips the account.
	p2, err := pool.Open(ctx, e.v, e.pool.Key(), pool.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	l, err := p2.Acquire(ctx, pool.Hint{})
	if err != nil || l.ID != e.ids[1] {
		t.Fatalf("new pool leases %v %v", l, err)
	}
}

func TestConcurrentRefreshInProcessIsOne(t *testing.T) {
	ctx := context.Background()
	srv := newOAuthServer(t, "ref1")
	e := newEnv(t, envOpt{accounts: 1, oauth: true, tokenURL: srv.URL})
	srv.onIssue = func(access string) { e.up.set(access, ok) }
	e.clock.Advance(2 * time.Hour) // expired
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := e.post(ctx, `{}`)
			if err != nil {
				t.Error(err)
				return
			}
			readAll(t, resp)
			if resp.StatusCode != 200 {
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if g, r := srv.counts(); g != 1 || r != 0 {
		t.Fatalf("%d grants, %d reuses", g, r)
	}
	for _, tok := range e.up.tokens() {
		if !strings.HasPrefix(tok, "fresh-access-") {
			t.Fatalf("a request went out with the expired token %q", tok)
		}
	}
}
