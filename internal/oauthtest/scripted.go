package oauthtest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Script returns a hook (Server.Token, Server.Device) that answers
// replies in turn, the last one repeating: an endpoint that makes the
// client wait, then answers.
func Script(replies ...Reply) func(map[string]string) Reply {
	var mu sync.Mutex
	n := 0
	return func(map[string]string) Reply {
		mu.Lock()
		defer mu.Unlock()
		n++
		return next(replies, n)
	}
}

// next is the nth (from 1) reply of a script whose last reply repeats.
func next(script []Reply, n int) Reply {
	if len(script) == 0 {
		return Reply{Status: http.StatusInternalServerError, Body: "no script"}
	}
	return script[min(n, len(script))-1]
}

// Scripted is a provider's endpoints played from scripts, for adapters
// whose endpoints differ from Server's (a device flow at GitHub's paths,
// a token exchange): each path answers its replies in turn, the last one
// repeating, and every request is recorded. A path without a script
// answers 404.
type Scripted struct {
	*httptest.Server

	mu       sync.Mutex
	scripts  map[string][]Reply
	requests map[string][]Request
	order    []Request
}

// Request is what a Scripted server recorded of one request.
type Request struct {
	Path   string
	Form   url.Values // the form-encoded body
	Header http.Header
}

// NewScripted starts a server answering each path from its script,
// closed when the test ends.
func NewScripted(t testing.TB, scripts map[string][]Reply) *Scripted {
	s := &Scripted{scripts: scripts, requests: map[string][]Request{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Scripted) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	req := Request{Path: r.URL.Path, Form: r.PostForm, Header: r.Header.Clone()}
	s.mu.Lock()
	s.order = append(s.order, req)
	s.requests[r.URL.Path] = append(s.requests[r.URL.Path], req)
	script, ok := s.scripts[r.URL.Path]
	rep := next(script, len(s.requests[r.URL.Path]))
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeReply(w, rep)
}

// Requests returns the requests path received, in order.
func (s *Scripted) Requests(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests[path]...)
}

// All returns every request the server received, in order.
func (s *Scripted) All() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.order...)
}
