package provider

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// loopbackConfig says where the redirect listener binds and how the
// redirect URI names it (RFC 8252 §7.3).
type loopbackConfig struct {
	// BindHost is the address listened on; "" means 127.0.0.1.
	BindHost string
	// Port is the port; 0 picks a free one (for clients registered with
	// any loopback port). Clients registered with one fixed redirect
	// URI need that port.
	Port int
	// Path is the redirect path, e.g. "/callback".
	Path string
	// RedirectHost is the host written in the redirect URI; "" means
	// BindHost. Some clients are registered with "localhost".
	RedirectHost string
}

// loopbackListener is a one-shot HTTP listener on the loopback interface that
// receives the authorization redirect, checks its state and hands over
// the code.
type loopbackListener struct {
	ln       net.Listener
	srv      *http.Server
	redirect string
	path     string
	state    string
	once     sync.Once
	result   chan callbackResult
	served   chan struct{}
}

type callbackResult struct {
	code string
	err  error
}

// listenLoopback starts the listener for one authorization request whose
// state is state. Close it when done.
func listenLoopback(cfg loopbackConfig, state string) (*loopbackListener, error) {
	host := cfg.BindHost
	if host == "" {
		host = "127.0.0.1"
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("loopback port %d out of range", cfg.Port)
	}
	path := cfg.Path
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("starting the loopback redirect listener: %w", err)
	}
	rhost := cfg.RedirectHost
	if rhost == "" {
		rhost = host
	}
	port := ln.Addr().(*net.TCPAddr).Port
	l := &loopbackListener{
		ln:       ln,
		redirect: (&url.URL{Scheme: "http", Host: net.JoinHostPort(rhost, strconv.Itoa(port)), Path: path}).String(),
		path:     path,
		state:    state,
		result:   make(chan callbackResult, 1),
		served:   make(chan struct{}),
	}
	l.srv = &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(l.served)
		_ = l.srv.Serve(ln)
	}()
	return l, nil
}

// RedirectURI is the redirect_uri to send in the authorization request.
func (l *loopbackListener) RedirectURI() string { return l.redirect }

// Wait returns the authorization code of the first redirect that carries
// the right state, an *AuthorizationError when that redirect reports an
// error, or ctx's error.
func (l *loopbackListener) Wait(ctx context.Context) (string, error) {
	select {
	case r := <-l.result:
		return r.code, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Close stops the listener and waits for it to finish.
func (l *loopbackListener) Close() error {
	err := l.srv.Close()
	<-l.served
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// ServeHTTP handles the redirect.
func (l *loopbackListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The URL carries the code: keep it out of caches and Referer headers.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if r.URL.Path != l.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	// A redirect without our state is not the answer to our request
	// (another tab, or a forged request): refuse it and keep waiting.
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.state)) != 1 {
		http.Error(w, "This sign-in link does not belong to the login in progress.", http.StatusBadRequest)
		return
	}
	var res callbackResult
	switch {
	case q.Get("error") != "":
		res.err = &AuthorizationError{Code: cleanCode(q.Get("error"), nil), Description: cleanText(q.Get("error_description"), nil)}
	case q.Get("code") == "":
		res.err = ErrMissingCode
	default:
		res.code = q.Get("code")
	}
	delivered := false
	l.once.Do(func() {
		l.result <- res
		delivered = true
	})
	if !delivered {
		http.Error(w, "This sign-in has already completed.", http.StatusConflict)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if res.err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, page("Sign-in failed", "The provider reported an error. Return to your terminal for details."))
		return
	}
	fmt.Fprint(w, page("Signed in", "authvault received the authorization. You can close this tab and return to your terminal."))
}

func page(title, text string) string {
	return "<!doctype html><meta charset=utf-8><title>" + title + "</title><h1>" + title + "</h1><p>" + text + "</p>\n"
}
