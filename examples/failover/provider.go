package main

// The fake provider: an OpenAI-compatible chat endpoint and an OAuth token
// endpoint on 127.0.0.1. It is part of the example, not of authvault: it
// stands in for a real provider so the example runs with no network and
// no account.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

type fakeProvider struct {
	*httptest.Server
	mu sync.Mutex
	// limited: access tokens answered with 429 and this Retry-After.
	limited map[string]int
	// valid: access tokens the chat endpoint accepts.
	valid map[string]bool
	// refresh: live refresh tokens; each is single-use.
	refresh map[string]bool
	issued  int
	// Requests counts what reached the chat endpoint.
	Requests int
}

func newFakeProvider() *fakeProvider {
	p := &fakeProvider{limited: map[string]int{}, valid: map[string]bool{}, refresh: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", p.chat)
	mux.HandleFunc("POST /oauth/token", p.token)
	p.Server = httptest.NewServer(mux)
	return p
}

func (p *fakeProvider) chat(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	p.Requests++
	wait, limited := p.limited[tok]
	ok := p.valid[tok]
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case limited:
		w.Header().Set("Retry-After", fmt.Sprint(wait))
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`)
	case !ok:
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"The access token expired","type":"invalid_request_error","code":"token_expired"}}`)
	default:
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}]}`)
	}
}

// token implements the refresh_token grant with single-use refresh tokens.
func (p *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rt := r.PostForm.Get("refresh_token")
	if !p.refresh[rt] {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant"}`)
		return
	}
	delete(p.refresh, rt)
	p.issued++
	access := fmt.Sprintf("access-refreshed-%d", p.issued)
	next := fmt.Sprintf("refresh-rotated-%d", p.issued)
	p.valid[access] = true
	p.refresh[next] = true
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "refresh_token": next, "token_type": "Bearer", "expires_in": 3600})
}

func (p *fakeProvider) setLimited(token string, retryAfter int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if retryAfter == 0 {
		delete(p.limited, token)
		return
	}
	p.limited[token] = retryAfter
}
