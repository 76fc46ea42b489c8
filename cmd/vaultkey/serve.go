package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/gateway"
	"github.com/authvault/authvault/internal/cli"
)

var serveCommand = &command{
	name:     "serve",
	synopsis: "serve [--listen ADDR] [--addr-file F] [--host NAME]… [--allow-remote] [--drain D] [--max-body N]",
	summary:  "run the local gateway: the pool's rotation for every tool",
	help: `Runs a gateway on loopback through which any tool or SDK uses the vault's
accounts, with the same-request rotation, exactly-once refresh and shared
cooldowns as the library. The base URL for a provider is
http://ADDR/PROVIDER: /anthropic/v1/messages goes to the serving account's
origin + /v1/messages, /openai/v1/chat/completions to its
/v1/chat/completions. Any path under the prefix is forwarded. Address a
namespace other than "default" as /PROVIDER@NAMESPACE (for example
http://127.0.0.1:8787/anthropic@work).

Clients authenticate with a token of their own (vaultkey clients add NAME),
sent as x-api-key, Authorization: Bearer or x-goog-api-key, whatever the
tool sends its API key as. It never reaches the provider: the account's
credential is sent instead. Without a valid token: 401, nothing forwarded.

Safe by default: loopback only; a Host header other than localhost,
127.0.0.1, [::1] or a --host name is answered 421; no CORS headers; no
X-Forwarded-* trust; request bodies bounded. The access log (standard
error) names client, provider, account label, status, latency and bytes,
never bodies, tokens or credentials.

Also served: /healthz (up), /readyz (the vault reads and every served pool
has an account ready), /metrics (Prometheus, with a client token as
Authorization: Bearer). Usage (requests, tokens) per account and client
and each account's last rate-limit headers are kept in the vault: see
vaultkey clients list and vaultkey accounts list. SIGTERM or Ctrl-C stops
accepting and lets requests in flight finish for up to --drain.

Several gateways on one vault (a directory, or redis:// with --dir) share
cooldowns and refresh each token once.

  --listen ADDR    address to listen on (default 127.0.0.1:8787; port 0
                   picks a free one)
  --addr-file F    write the address listened on to F (for scripts)
  --host NAME      also accept requests whose Host is NAME (repeatable)
  --allow-remote   allow a listen address other than loopback; needs at
                   least one client token
  --drain D        how long requests in flight may go on after SIGTERM
                   (default 30s)
  --max-body N     largest request body in bytes (default 33554432)

Example:
  vaultkey clients add laptop        # prints the token once
  vaultkey serve &
  ANTHROPIC_BASE_URL=http://127.0.0.1:8787/anthropic ANTHROPIC_API_KEY=avk-… claude`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := serveOptions{}
		fs.StringVar(&o.listen, "listen", "127.0.0.1:8787", "")
		fs.StringVar(&o.addrFile, "addr-file", "", "")
		fs.Func("host", "", appendTo(&o.hosts))
		fs.BoolVar(&o.allowRemote, "allow-remote", false, "")
		fs.DurationVar(&o.drain, "drain", 30*time.Second, "")
		fs.Int64Var(&o.maxBody, "max-body", gateway.DefaultMaxBody, "")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unexpected argument %q", args[0])
			}
			if o.maxBody <= 0 {
				return cli.Usagef("--max-body must be positive")
			}
			return runServe(e, o)
		}
	},
}

type serveOptions struct {
	listen      string
	addrFile    string
	hosts       []string
	allowRemote bool
	drain       time.Duration
	maxBody     int64
}

// loopbackAddr reports whether a listen address stays on this machine.
func loopbackAddr(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, cli.Usagef("--listen %q: %v", addr, err)
	}
	return host != "" && provider.IsLoopback(host), nil
}

func runServe(e *env, o serveOptions) error {
	loopback, err := loopbackAddr(o.listen)
	if err != nil {
		return err
	}
	if !loopback && !o.allowRemote {
		return fmt.Errorf("refusing to listen on %s: not a loopback address; other machines could use your accounts (pass --allow-remote, with client tokens, to mean it)", o.listen)
	}
	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	clients, err := gateway.Clients(e.ctx, u.Vault)
	if err != nil {
		return fmt.Errorf("reading the gateway clients: %w", err)
	}
	if len(clients) == 0 {
		if !loopback {
			return fmt.Errorf("refusing to listen on %s with no client token: add one first (vaultkey clients add NAME)", o.listen)
		}
		e.notef("warning: no client tokens yet: every request will be refused until you add one (vaultkey clients add NAME)")
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	g, err := gateway.New(e.ctx, u.Vault, gateway.WithLogger(logger), gateway.WithHosts(o.hosts...), gateway.WithMaxBody(o.maxBody))
	if err != nil {
		return err
	}
	defer g.Close()

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if o.addrFile != "" {
		err := writeFileAtomic(o.addrFile, func(w io.Writer) error {
			_, err := io.WriteString(w, addr+"\n")
			return err
		})
		if err != nil {
			ln.Close()
			return fmt.Errorf("--addr-file: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	e.notef("serving on http://%s (base URL per provider: http://%s/PROVIDER)", addr, addr)

	stop, cancel := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	select {
	case err := <-served:
		return err
	case <-stop.Done():
	}
	e.notef("stopping: requests in flight may finish for up to %s", o.drain)
	dctx, dcancel := context.WithTimeout(context.Background(), o.drain)
	defer dcancel()
	err = srv.Shutdown(dctx)
	<-served
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
		err = fmt.Errorf("requests still in flight after --drain %s were cut", o.drain)
	}
	if cerr := g.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err == nil {
		e.notef("stopped")
	}
	return err
}
