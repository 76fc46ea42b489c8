package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

func TestRotateOnRateLimit(t *testing.T) {
	ctx := context.Background()
	var events []Event
	e := newEnv(t, envOpt{accounts: 3, trOpts: []Option{WithObserver(func(ev Event) { events = append(events, ev) })}})
	e.up.set("tok1", rateLimited(30))
	e.up.set("tok2", ok)
	e.up.set("tok3", ok)

	resp, err := e.post(ctx, `{"model":"m"}`)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readAll(t, resp))
	}
	readAll(t, resp)
	if diff := cmp.Diff([]string{"tok1", "tok2"}, e.up.tokens()); diff != "" {
		t.Fatalf("upstream requests (-want +got):\n%s", diff)
	}
	var kinds []EventKind
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	if diff := cmp.Diff([]EventKind{EventAttempt, EventCooldown, EventRotate, EventAttempt}, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !events[1].Until.Equal(e.clock.Now().Add(30*time.Second)) || events[2].From != e.ids[0] || events[2].Account != e.ids[1] {
		t.Errorf("cooldown/rotate events: %+v %+v", events[1], events[2])
	}

	// Fill-first: the next request goes straight to the second account.
	resp, err = e.post(ctx, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if got := e.up.tokens(); len(got) != 3 || got[2] != "tok2" {
		t.Fatalf("second request went to %v", got)
	}

	// After Retry-After has passed, the first account is back.
	e.clock.Advance(31 * time.Second)
	e.up.set("tok1", ok)
	resp, err = e.post(ctx, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if got := e.up.tokens(); got[3] != "tok1" {
		t.Fatalf("after the cooldown the request went to %v", got[3])
	}
}

func TestBodyIdenticalOnEveryAttempt(t *testing.T) {
	ctx := context.Background()
	body := strings.Repeat(`{"model":"m","messages":[{"role":"user","content":"héllo"}]}`, 100)
	cases := map[string]func(url string) *http.Request{
		"GetBody": func(url string) *http.Request {
			r, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader([]byte(body)))
			return r
		},
		"plain reader": func(url string) *http.Request {
			r, _ := http.NewRequestWithContext(ctx, "POST", url, io.MultiReader(strings.NewReader(body)))
			if r.GetBody != nil {
				t.Fatal("test needs a request without GetBody")
			}
			return r
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envOpt{accounts: 3})
			e.up.set("tok1", rateLimited(5))
			e.up.set("tok2", rateLimited(5))
			e.up.set("tok3", ok)
			req := mk(e.up.URL + "/v1/chat/completions")
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			readAll(t, resp)
			s := e.up.seen()
			if len(s) != 3 {
				t.Fatalf("%d upstream requests", len(s))
			}
			for i, r := range s {
				if r.Body != body {
					t.Errorf("attempt %d: body differs (%d bytes, want %d)", i+1, len(r.Body), len(body))
				}
			}
		})
	}
	t.Run("GetBody only for the attempts after the first", func(t *testing.T) {
		e := newEnv(t, envOpt{accounts: 3})
		e.up.set("tok1", rateLimited(5))
		e.up.set("tok2", rateLimited(5))
		e.up.set("tok3", ok)
		r, _ := http.NewRequestWithContext(ctx, "POST", e.up.URL+"/v1/x", strings.NewReader(body))
		get, calls := r.GetBody, 0
		r.GetBody = func() (io.ReadCloser, error) { calls++; return get() }
		resp, err := e.client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if len(e.up.seen()) != 3 || calls != 2 {
			t.Fatalf("%d upstream requests, %d GetBody calls; want 3 and 2", len(e.up.seen()), calls)
		}
	})
	t.Run("over the bound is sent once", func(t *testing.T) {
		e := newEnv(t, envOpt{accounts: 3, trOpts: []Option{WithMaxReplayBody(100)}})
		e.up.set("tok1", rateLimited(5))
		e.up.set("tok2", ok)
		r, _ := http.NewRequestWithContext(ctx, "POST", e.up.URL+"/v1/x", io.MultiReader(strings.NewReader(body)))
		resp, err := e.client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != 429 {
			t.Fatalf("status %d, want the upstream's 429", resp.StatusCode)
		}
		s := e.up.seen()
		if len(s) != 1 || s[0].Body != body {
			t.Fatalf("upstream saw %d requests", len(s))
		}
	})
}

// headerAdapter changes every kind of header an adapter may change:
// appends to one the caller set, replaces one, deletes one.
type headerAdapter struct{ adapters.Adapter }

func (a headerAdapter) Authorize(req *http.Request, rec *records.Record) error {
	req.Header.Add("X-Multi", "adapter")
	req.Header.Set("X-Caller", "adapter")
	req.Header.Del("X-Gone")
	return a.Adapter.Authorize(req, rec)
}

func TestCallerRequestUnmodified(t *testing.T) {
	e := newEnv(t, envOpt{accounts: 2})
	e.tr.adapter = headerAdapter{e.tr.adapter}
	e.up.set("tok1", rateLimited(5))
	e.up.set("tok2", ok)
	req, _ := http.NewRequest("POST", e.up.URL+"/v1/x", strings.NewReader("{}"))
	req.Header.Set("X-Caller", "1")
	req.Header.Set("X-Gone", "1")
	// Room to append in place: an adapter's Add must not use it.
	multi := append(make([]string, 0, 4), "caller")
	req.Header["X-Multi"] = multi
	before := req.Header.Clone()
	resp, err := e.tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if diff := cmp.Diff(before, req.Header); diff != "" {
		t.Fatalf("caller's headers changed:\n%s", diff)
	}
	if spare := multi[:2][1]; spare != "" {
		t.Fatalf("an adapter's value was written into the caller's array: %q", spare)
	}
	if got := resp.Request.Header.Values("X-Multi"); !slices.Equal(got, []string{"caller", "adapter"}) {
		t.Fatalf("the sent request's X-Multi = %q", got)
	}
	if req.URL.String() != e.up.URL+"/v1/x" {
		t.Fatal("caller's URL changed")
	}
}

// headerlessTransport drops the answers' headers, as a minimal base
// transport may leave them unset.
type headerlessTransport struct{ base http.RoundTripper }

func (h headerlessTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	if resp != nil {
		resp.Header = nil
	}
	return resp, err
}

func TestNilObserverAndHeaderlessAnswers(t *testing.T) {
	e := newEnv(t, envOpt{accounts: 2, trOpts: []Option{WithObserver(nil)}})
	e.tr.cfg.base = headerlessTransport{http.DefaultTransport}
	e.up.set("tok1", rateLimited(5))
	e.up.set("tok2", rateLimited(5))
	resp, err := e.post(context.Background(), "{}")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "rate_limit_exceeded") {
		t.Fatalf("got %d %q, want the last upstream 429", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Fatalf("headers %v", resp.Header)
	}
	if n := len(e.up.seen()); n != 2 {
		t.Fatalf("upstream saw %d requests, want 2", n)
	}
}

func TestAllCoolingSynthetic429(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOpt{accounts: 2})
	e.up.set("tok1", rateLimited(20))
	e.up.set("tok2", rateLimited(40))
	resp, err := e.post(ctx, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, resp)
	// Both were tried: the last upstream answer comes back, with the
	// soonest account's Retry-After.
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "20" || !strings.Contains(b, "rate_limit_exceeded") {
		t.Fatalf("status %d Retry-After %q body %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	n := len(e.up.seen())
	e.clock.Advance(5 * time.Second)
	resp, err = e.post(ctx, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	b = readAll(t, resp)
	if len(e.up.seen()) != n {
		t.Fatal("upstream called while every account cools down")
	}
	var payload struct {
		Error struct {
			Code      string `json:"code"`
			Provider  string `json:"provider"`
			Namespace string `json:"namespace"`
		} `json:"error"`
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "15" || json.Unmarshal([]byte(b), &payload) != nil ||
		payload.Error.Code != "authvault_accounts_exhausted" || payload.Error.Provider != "fake" || payload.Error.Namespace != "default" {
		t.Fatalf("synthetic: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}

func TestMaxWaitAndCancel(t *testing.T) {
	entered := make(chan time.Duration, 1)
	e := newEnv(t, envOpt{accounts: 1, trOpts: []Option{
		WithMaxWait(time.Hour),
		withSleep(func(done <-chan struct{}, d time.Duration) bool {
			entered <- d
			<-done
			return false
		}),
	}})
	e.up.set("tok1", rateLimited(600))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		resp, err := e.post(ctx, `{}`)
		if resp != nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	if d := <-entered; d != 600*time.Second {
		t.Errorf("waits %v, want 10m", d)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled request did not return")
	}
}

func TestMaxWaitSleepsForSoonest(t *testing.T) {
	var e *env
	e = newEnv(t, envOpt{accounts: 1, trOpts: []Option{
		WithMaxWait(time.Minute),
		withSleep(func(done <-chan struct{}, d time.Duration) bool {
			e.clock.Advance(d)
			e.up.set("tok1", ok)
			return true
		}),
	}})
	e.up.set("tok1", rateLimited(10))
	resp, err := e.post(context.Background(), `{}`)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != 200 || len(e.up.seen()) != 2 {
		t.Fatalf("status %d after %d requests", resp.StatusCode, len(e.up.seen()))
	}
}

func TestOverloadedAndServerErrorsReturned(t *testing.T) {
	for _, status := range []int{500, 502, 503, 529} {
		e := newEnv(t, envOpt{accounts: 2})
		e.up.set("tok1", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
		e.up.set("tok2", ok)
		resp, err := e.post(context.Background(), `{}`)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != status || len(e.up.seen()) != 1 {
			t.Errorf("%d: got %d after %d requests", status, resp.StatusCode, len(e.up.seen()))
		}
		// Not the account's fault: it is still first.
		lease, err := e.pool.Acquire(context.Background(), pool.Hint{})
		if err != nil || lease.ID != e.ids[0] {
			t.Errorf("%d: next lease %v %v", status, lease, err)
		}
	}
}

func TestDeadAPIKeyMovesOn(t *testing.T) {
	e := newEnv(t, envOpt{accounts: 2})
	// tok1 has no behaviour: the upstream answers 401 invalid_api_key.
	e.up.set("tok2", ok)
	resp, err := e.post(context.Background(), `{}`)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	acct, err := e.pool.Account(context.Background(), e.ids[0])
	if err != nil || acct.Availability != pool.ReauthNeeded {
		t.Fatalf("account 1: %+v %v", acct, err)
	}
}

// TestEventsCarryTheRequestContext: an observer shared by many requests
// tells them apart by a value of the request's context.
func TestEventsCarryTheRequestContext(t *testing.T) {
	type key struct{}
	var got []any
	e := newEnv(t, envOpt{accounts: 2, trOpts: []Option{WithObserver(func(ev Event) {
		got = append(got, ev.Context.Value(key{}))
	})}})
	e.up.set("tok1", rateLimited(30))
	e.up.set("tok2", ok)
	ctx := context.WithValue(context.Background(), key{}, "request-7")
	resp, err := e.post(ctx, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if len(got) != 4 {
		t.Fatalf("%d events, want 4 (attempt, cooldown, rotate, attempt)", len(got))
	}
	for i, v := range got {
		if v != "request-7" {
			t.Errorf("event %d: context value %v, want request-7", i, v)
		}
	}
}

func TestObserversAdd(t *testing.T) {
	var first, second, added []EventKind
	record := func(to *[]EventKind) func(Event) {
		return func(e Event) { *to = append(*to, e.Kind) }
	}
	tests := []struct {
		name string
		opts []Option
		want [3]bool // first, second, added see events
	}{
		{"one alone", []Option{WithObserver(record(&added))}, [3]bool{false, false, true}},
		{"beside another", []Option{WithObserver(record(&first)), WithObserver(record(&added))}, [3]bool{true, false, true}},
		{"three", []Option{WithObserver(record(&added)), WithObserver(record(&second)), WithObserver(record(&first))}, [3]bool{true, true, true}},
		{"nil adds nothing", []Option{WithObserver(record(&first)), WithObserver(nil)}, [3]bool{true, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, second, added = nil, nil, nil
			e := newEnv(t, envOpt{accounts: 2, trOpts: tc.opts})
			e.up.set("tok1", rateLimited(5))
			resp, err := e.post(context.Background(), "{}")
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			got := [3]bool{len(first) > 0, len(second) > 0, len(added) > 0}
			if got != tc.want {
				t.Fatalf("saw events: first %v second %v added %v, want %v", first, second, added, tc.want)
			}
			if tc.want[0] && tc.want[2] && !slices.Equal(first, added) {
				t.Fatalf("first saw %v, added saw %v", first, added)
			}
		})
	}
}
