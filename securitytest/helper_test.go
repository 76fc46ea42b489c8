//go:build unix

package securitytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
)

// runHelper is the body of a helper process: the test binary started
// again with AUTHVAULT_SECURITYTEST_ROLE set. It returns the exit code.
func runHelper(role string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	switch role {
	case "update":
		err = helperUpdate(ctx)
	case "writer":
		err = helperWriter(ctx)
	case "refresh":
		err = helperRefresh(ctx)
	case "cycle":
		err = helperCycle(ctx)
	case "panic":
		helperPanic()
	case "killed-writer":
		err = helperKilledWriter(ctx)
	case "put":
		err = helperPut(ctx)
	case "peak-rss":
		err = helperPeakRSS(ctx)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

// helperVault opens the vault in $AUTHVAULT_SECURITYTEST_DIR with the key
// from the environment, as a program using authvault would.
func helperVault(ctx context.Context, opts ...vault.Option) (*vault.Vault, error) {
	ids, err := (&keysource.Env{}).Identities(ctx)
	if err != nil {
		return nil, err
	}
	return vault.Open(ctx, os.Getenv(envDir), ids, opts...)
}

func helperCount() int {
	n, _ := strconv.Atoi(os.Getenv(envArg))
	return n
}

// helperUpdate increments Meta["n"] of the API record with Update, n times.
func helperUpdate(ctx context.Context) error {
	v, err := helperVault(ctx)
	if err != nil {
		return err
	}
	defer v.Close()
	for i := 0; i < helperCount(); i++ {
		_, err := v.Update(ctx, idAPI, func(r *records.Record) error {
			n, _ := strconv.Atoi(r.Meta["n"])
			if r.Meta == nil {
				r.Meta = map[string]string{}
			}
			r.Meta["n"] = strconv.Itoa(n + 1)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// helperWriter rewrites the OAuth record n times; each version's access
// token, refresh token and Meta["n"] carry the same number, so a reader
// can tell a whole record from a torn one.
func helperWriter(ctx context.Context) error {
	v, err := helperVault(ctx)
	if err != nil {
		return err
	}
	defer v.Close()
	for i := 1; i <= helperCount(); i++ {
		s := strconv.Itoa(i)
		_, err := v.Update(ctx, idOAuth, func(r *records.Record) error {
			r.OAuth.Access = records.Secret("access-" + s)
			r.OAuth.Refresh = records.Secret("refresh-" + s)
			r.Meta["n"] = s
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// helperRefresh waits for one byte on standard input, then sends n
// requests through a transport over the vault's anthropic accounts. Every
// request must succeed.
func helperRefresh(ctx context.Context) error {
	v, err := helperVault(ctx)
	if err != nil {
		return err
	}
	defer v.Close()
	p, err := pool.Open(ctx, v, pool.Key{Provider: "anthropic", Namespace: records.DefaultNamespace})
	if err != nil {
		return err
	}
	defer p.Close()
	hc := &http.Client{Transport: transport.New(p, anthropic.New(), transport.WithOrigins(os.Getenv(envURL)))}
	if _, err := io.ReadFull(os.Stdin, make([]byte, 1)); err != nil {
		return fmt.Errorf("waiting for the start: %w", err)
	}
	for i := 0; i < helperCount(); i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, os.Getenv(envURL)+"/v1/messages", strings.NewReader(`{"model":"m"}`))
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("request %d: HTTP %d", i, resp.StatusCode)
		}
	}
	return nil
}

// helperCycle runs a full rotate, refresh, failed refresh, exhaust cycle
// through a transport whose observer logs at debug level to standard
// error (text) and standard output (JSON); it prints each request's
// outcome on standard output too.
func helperCycle(ctx context.Context) error {
	text := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	js := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, err := helperVault(ctx)
	if err != nil {
		return err
	}
	defer v.Close()
	key := pool.Key{Provider: "anthropic", Namespace: records.DefaultNamespace}
	p, err := pool.Open(ctx, v, key)
	if err != nil {
		return err
	}
	obs := func(e transport.Event) {
		transport.SlogObserver(text)(e)
		transport.SlogObserver(js)(e)
		fmt.Printf("event %+v\n", e)
	}
	events := eventlog.New(v, key)
	defer events.Close()
	hc := &http.Client{Transport: transport.New(p, anthropic.New(), transport.WithObserver(obs), transport.WithObserver(events.Observe), transport.WithOrigins(os.Getenv(envURL)))}
	for i := 1; i <= 3; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, os.Getenv(envURL)+"/v1/messages", strings.NewReader(`{"model":"m"}`))
		resp, err := hc.Do(req)
		if err != nil {
			fmt.Printf("request %d: error %v\n", i, err)
			fmt.Fprintf(os.Stderr, "request %d: error %+v\n", i, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The body is the provider's own answer, returned to the caller
		// as is; only its size is printed.
		fmt.Printf("request %d: HTTP %d retry-after=%q body=%d bytes\n", i, resp.StatusCode, resp.Header.Get("Retry-After"), len(body))
	}
	accts, err := p.Accounts(ctx)
	if err != nil {
		return err
	}
	for _, a := range accts {
		fmt.Printf("account %+v\n", a)
		fmt.Fprintf(os.Stderr, "account %#v\n", a)
	}
	if err := p.Health(); err != nil {
		fmt.Printf("health: %v\n", err)
		text.Error("pool state", "error", err)
	}
	if err := p.Close(); err != nil {
		return err
	}
	return nil
}

// helperPanic panics, without recovering, with a value that holds the
// canary records named by $AUTHVAULT_SECURITYTEST_ARG. The Go runtime
// prints the value on standard error.
func helperPanic() {
	vals := strings.Split(os.Getenv(envURL), ",")
	c := &canaries{Access: vals[0], Refresh: vals[1], IDToken: vals[2], APIKey: vals[3], WellKnown: vals[4]}
	recs := canaryRecords(c)
	switch os.Getenv(envArg) {
	case "record":
		panic(recs[0])
	case "record value":
		panic(*recs[0])
	case "secret":
		panic(recs[0].OAuth.Refresh)
	case "sprint":
		panic(fmt.Sprint(recs))
	case "error":
		panic(fmt.Errorf("could not use %+v: %w", recs[1], errors.New("boom")))
	case "oauth":
		panic(*recs[0].OAuth)
	}
	panic("unknown panic mode")
}
