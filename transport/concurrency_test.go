package transport

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// 64 goroutines share 4 accounts whose upstream answers 429 at random. The
// clock does not move, so an account that answered 429 must never be used
// again; every discarded body is closed; no goroutine outlives the test.
func TestConcurrentRandomRateLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOpt{accounts: 4})
	counting := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	defer counting.base.(*http.Transport).CloseIdleConnections()
	// Every lease carries the account's cooldown window generation. The
	// clock does not move, so an account's only cooldown never ends: a
	// lease handed out after it opened would carry a newer window than the
	// leases handed out before. Leases already out when the 429 arrived may
	// still reach the upstream; the pool must not hand out new ones.
	var seqMu sync.Mutex
	windows := map[records.ID]map[uint64]int{}
	a, _ := bearer.New("fake")
	e.tr = New(e.pool, a, WithBase(counting), WithOrigins(e.up.URL))
	e.tr.cfg.afterAcquire = func(l *pool.Lease) {
		seqMu.Lock()
		defer seqMu.Unlock()
		if windows[l.ID] == nil {
			windows[l.ID] = map[uint64]int{}
		}
		windows[l.ID][l.Window]++
	}
	e.client = &http.Client{Transport: e.tr}

	var mu sync.Mutex
	cooled := map[string]bool{}
	inflight := 0
	rng := rand.New(rand.NewPCG(7, 9))
	for i := 1; i <= 4; i++ {
		tok := fmt.Sprintf("tok%d", i)
		e.up.set(tok, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			if cooled[tok] {
				inflight++
			}
			limit := rng.IntN(8) == 0
			if limit {
				cooled[tok] = true
			}
			mu.Unlock()
			if limit {
				rateLimited(60)(w, r)
				return
			}
			ok(w, r)
		})
	}
	var wg sync.WaitGroup
	statuses := make(chan int, 64*8)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				resp, err := e.post(ctx, `{"model":"m"}`)
				if err != nil {
					t.Error(err)
					return
				}
				readAll(t, resp)
				statuses <- resp.StatusCode
			}
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	mu.Lock()
	defer mu.Unlock()
	seqMu.Lock()
	defer seqMu.Unlock()
	// Requests already in flight when their account cooled may still
	// arrive (the pool can only stop handing the account out); a lease
	// handed out after the cooldown was reported may not exist.
	for id, ws := range windows {
		if len(ws) > 1 {
			t.Errorf("%v was leased in %d cooldown windows (%v): handed out while cooling", id, len(ws), ws)
		}
	}
	if len(cooled) == 0 {
		t.Error("no account was ever rate limited: the test tests nothing")
	}
	if count[200]+count[429] != 64*8 {
		t.Errorf("statuses %v", count)
	}
	if open := counting.open.Load(); open != 0 {
		t.Errorf("%d response bodies left open (of %d)", open, counting.total.Load())
	}
	t.Logf("statuses %v, %d upstream requests, %d in-flight arrivals at cooled accounts", count, counting.total.Load(), inflight)
}

// The refresh race across processes: 8 processes × 4 goroutines start with
// the same expired token; the token endpoint's refresh tokens are
// single-use and a reuse revokes the family. Exactly one grant is made and
// every request succeeds.
func TestRefreshRaceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	ctx := context.Background()
	srv := newOAuthServer(t, "ref1")
	e := newEnv(t, envOpt{accounts: 1, oauth: true, tokenURL: srv.URL})
	srv.onIssue = func(access string) { e.up.set(access, ok) }
	// Expire the token in the vault itself (the children use real time).
	if _, err := e.v.Update(ctx, e.ids[0], func(r *records.Record) error {
		r.OAuth.Expiry = time.Now().Add(-time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const procs = 8
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestTransportHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), "AUTHVAULT_TRANSPORT_HELPER=refresh", "AUTHVAULT_T_DIR="+e.dir,
				"AUTHVAULT_T_KEY="+e.id.String(), "AUTHVAULT_T_URL="+e.up.URL)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("child: %v: %s", err, out)
			}
		}()
	}
	wg.Wait()
	grants, reuses := srv.counts()
	if grants != 1 || reuses != 0 {
		t.Fatalf("%d refresh grants, %d reuses; want exactly 1 and 0", grants, reuses)
	}
	if n := len(e.up.seen()); n != procs*4 {
		t.Fatalf("upstream saw %d requests, want %d", n, procs*4)
	}
	for _, s := range e.up.seen() {
		if s.Token != "fresh-access-1" {
			t.Fatalf("a request used %q", s.Token)
		}
	}
}

func TestTransportHelperProcess(t *testing.T) {
	if os.Getenv("AUTHVAULT_TRANSPORT_HELPER") != "refresh" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	id, err := age.ParseX25519Identity(os.Getenv("AUTHVAULT_T_KEY"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(ctx, os.Getenv("AUTHVAULT_T_DIR"), []age.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	p, err := pool.Open(ctx, v, pool.Key{Provider: "fake", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, _ := bearer.New("fake")
	client := &http.Client{Transport: New(p, a, WithOrigins(os.Getenv("AUTHVAULT_T_URL")))}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(os.Getenv("AUTHVAULT_T_URL")+"/v1/chat/completions", "application/json", strings.NewReader("{}"))
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- "status " + strconv.Itoa(resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
