package authvault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/vault"
)

// Option configures Open and HTTPClient.
type Option func(*options)

type options struct {
	dir       string
	namespace string
	vault     *vault.Vault
	adapter   adapters.Adapter
	poolOpts  []pool.Option
	trOpts    []transport.Option
	baseURL   string
}

// WithBaseURL makes provider, when it is not one of the known providers,
// a custom OpenAI-compatible one served by the generic bearer adapter
// (adapters/bearer) with base as its default base URL: requests addressed
// to it go to each account's own base URL when it has one, and base's
// origin is bound to every account. Without it, Open serves an unknown
// provider only when its accounts name their own base URL (vaultkey
// accounts add-key NAME --base-url URL).
func WithBaseURL(base string) Option { return func(o *options) { o.baseURL = base } }

// WithDir opens the vault in dir instead of DefaultDir.
func WithDir(dir string) Option { return func(o *options) { o.dir = dir } }

// WithNamespace selects the accounts of a namespace other than "default"
// (an enterprise host, "work", …).
func WithNamespace(ns string) Option { return func(o *options) { o.namespace = ns } }

// WithVault uses an already open vault; Close does not close it.
func WithVault(v *vault.Vault) Option { return func(o *options) { o.vault = v } }

// WithAdapter uses a instead of the adapter registered for the provider.
func WithAdapter(a adapters.Adapter) Option { return func(o *options) { o.adapter = a } }

// WithPoolOptions passes options to the pool (strategy, cooldowns, clock).
func WithPoolOptions(opts ...pool.Option) Option {
	return func(o *options) { o.poolOpts = append(o.poolOpts, opts...) }
}

// WithTransportOptions passes options to the transport (base transport,
// max wait, observer, session and model functions).
func WithTransportOptions(opts ...transport.Option) Option {
	return func(o *options) { o.trOpts = append(o.trOpts, opts...) }
}

// WithOrigins binds more origins to every account, besides those its
// adapter names (the provider's API and the account's own base URL): a test
// server on loopback, a gateway, a proxy. The transport sends a credential
// to no other origin (see transport.WithOrigins).
func WithOrigins(origins ...string) Option {
	return func(o *options) { o.trOpts = append(o.trOpts, transport.WithOrigins(origins...)) }
}

// Client is an open vault, pool and transport for one provider and
// namespace. Close it to write the pool's last counters.
type Client struct {
	// HTTP is the client to give to an SDK (option.WithHTTPClient).
	HTTP      *http.Client
	Vault     *vault.Vault
	Pool      *pool.Pool
	Transport *transport.Transport
	// Events writes the transport's rotations, cooldowns and refreshes to
	// the vault's event log (see package eventlog), behind the requests.
	Events *eventlog.Log

	ownVault bool
}

// Open opens the vault (the default one unless WithDir or WithVault), the
// pool of provider's accounts and a transport that rotates between them.
func Open(ctx context.Context, provider string, opts ...Option) (*Client, error) {
	o := options{namespace: records.DefaultNamespace}
	for _, fn := range opts {
		fn(&o)
	}
	a := o.adapter
	custom := false
	if a == nil {
		var ok bool
		if a, ok = adapters.Lookup(provider); !ok {
			var bopts []bearer.Option
			if o.baseURL != "" {
				bopts = append(bopts, bearer.WithBaseURL(o.baseURL))
			}
			b, err := bearer.New(provider, bopts...)
			if err != nil {
				return nil, fmt.Errorf("authvault: custom provider %q: %w", provider, err)
			}
			a, custom = b, o.baseURL == ""
		}
	}
	c := &Client{Vault: o.vault}
	if c.Vault == nil {
		dir := o.dir
		if dir == "" {
			var err error
			if dir, err = DefaultDir(); err != nil {
				return nil, err
			}
		}
		v, err := OpenVault(ctx, dir, nil)
		if err != nil {
			return nil, err
		}
		c.Vault, c.ownVault = v, true
	}
	if custom {
		if err := checkCustom(ctx, c.Vault, provider, o.namespace); err != nil {
			c.closeVault()
			return nil, err
		}
	}
	// Write-behind: a request rotating past rate-limited accounts writes
	// their cooldowns once, before it returns (the transport flushes them).
	popts := append([]pool.Option{pool.WithWriteBehind()}, o.poolOpts...)
	p, err := pool.Open(ctx, c.Vault, pool.Key{Provider: provider, Namespace: o.namespace}, popts...)
	if err != nil {
		c.closeVault()
		return nil, err
	}
	c.Pool = p
	trOpts := o.trOpts
	// The vault's event log sees every event, beside any observer of the
	// caller's: operators watch it with vaultkey accounts events and ui.
	c.Events = eventlog.New(c.Vault, p.Key())
	trOpts = append(trOpts[:len(trOpts):len(trOpts)], transport.WithObserver(c.Events.Observe))
	c.Transport = transport.New(p, a, trOpts...)
	c.HTTP = &http.Client{Transport: c.Transport}
	return c, nil
}

// checkCustom refuses an unknown provider whose accounts name no base URL
// of their own: most likely a typo, and a credential with nowhere it may
// be sent.
func checkCustom(ctx context.Context, v *vault.Vault, provider, namespace string) error {
	entries, err := v.List(ctx, vault.Filter{Provider: provider, Namespace: namespace})
	if err != nil {
		return err
	}
	for _, e := range entries {
		if r, err := v.Get(ctx, e.ID); err == nil && r.Meta[adapters.MetaBaseURL] != "" {
			return nil
		}
	}
	return fmt.Errorf("authvault: unknown provider %q (known: %s): a custom OpenAI-compatible provider needs WithBaseURL, or accounts with a base URL (vaultkey accounts add-key %s --base-url URL)",
		provider, strings.Join(adapters.Providers(), ", "), provider)
}

// OpenVault opens the vault in dir with the key found by chain (nil: the
// default chain for that vault: AUTHVAULT_KEY and friends, the OS keyring,
// the key file). dir may also be the URL of a store whose package the
// program imports, such as a Redis URL (redis://host:port/db?prefix=team-a)
// for replicas that share one pool, with
//
//	import _ "github.com/authvault/authvault/vault/redisstore"
//
// The root package links no store driver itself; a URL whose store
// package is not imported is an error that names the import.
func OpenVault(ctx context.Context, dir string, chain *keysource.Chain, opts ...vault.Option) (*vault.Vault, error) {
	if !vault.IsURL(dir) {
		return openWithChain(ctx, dir, func() (string, error) { return vault.ReadID(dir) }, chain, opts)
	}
	st, name, err := vault.OpenURL(ctx, dir)
	if errors.Is(err, vault.ErrUnknownScheme) {
		return nil, unknownSchemeError(dir, err)
	}
	if err != nil {
		return nil, err
	}
	readID := func() (string, error) {
		id, err := vault.StoreID(st)
		if errors.Is(err, vault.ErrNoVault) {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return id, err
	}
	// The vault closes its store; until it owns it, close it here.
	v, err := openWithChain(ctx, name, readID, chain, append(opts, vault.WithStore(st)))
	if err != nil {
		st.Close()
		return nil, err
	}
	return v, nil
}

// storePackages names the package that registers each URL scheme this
// module provides a store for.
var storePackages = map[string]string{
	"redis":  "github.com/authvault/authvault/vault/redisstore",
	"rediss": "github.com/authvault/authvault/vault/redisstore",
}

// unknownSchemeError says which import a URL needs. Only the scheme is
// named: the URL may hold a password.
func unknownSchemeError(url string, err error) error {
	scheme, _, _ := strings.Cut(url, "://")
	if pkg, ok := storePackages[strings.ToLower(scheme)]; ok {
		return fmt.Errorf("authvault: %w: add import _ %q to the program", err, pkg)
	}
	return fmt.Errorf("authvault: %w: import the package of that store", err)
}

func openWithChain(ctx context.Context, name string, readID func() (string, error), chain *keysource.Chain, opts []vault.Option) (*vault.Vault, error) {
	if chain == nil {
		id, err := readID()
		if err != nil {
			if errors.Is(err, vault.ErrNoVault) {
				return nil, fmt.Errorf("authvault: %w (create one with: vaultkey init)", err)
			}
			return nil, err
		}
		chain = keysource.Default(id, os.Getenv)
	}
	ids, _, err := chain.Resolve(ctx)
	if err != nil {
		return nil, err
	}
	return vault.Open(ctx, name, ids, opts...)
}

func (c *Client) closeVault() {
	if c.ownVault && c.Vault != nil {
		c.Vault.Close()
	}
}

// Close writes the pool's pending counters and events and closes what
// Open opened.
func (c *Client) Close() error {
	err := c.Pool.Close()
	if eerr := c.Events.Close(); err == nil && eerr != nil {
		err = fmt.Errorf("authvault: writing the event log: %w", eerr)
	}
	c.closeVault()
	return err
}

// PlaceholderKey is the API key to give an SDK that refuses to send a
// request without a credential of its own (anthropic-sdk-go does, when
// ANTHROPIC_API_KEY is not set):
//
//	anthropic.NewClient(option.WithHTTPClient(hc), option.WithAPIKey(authvault.PlaceholderKey))
//
// It is not a credential and claims to be none: on every request the
// client sends, the provider's adapter replaces the SDK's credential
// headers with the serving account's. Passing it also keeps the SDK from
// picking up a key of its own from the environment or its config files.
const PlaceholderKey = "authvault-placeholder"

// HTTPClient returns an *http.Client whose requests are sent with
// provider's accounts from the default vault, rotating to the next account
// on a rate limit and refreshing expired tokens, for any SDK that takes an
// *http.Client:
//
//	hc, err := authvault.HTTPClient(ctx, "anthropic")
//	client := anthropic.NewClient(option.WithHTTPClient(hc), option.WithAPIKey(authvault.PlaceholderKey))
//
// The vault and pool stay open for the life of the process; use Open to
// close them.
func HTTPClient(ctx context.Context, provider string, opts ...Option) (*http.Client, error) {
	c, err := Open(ctx, provider, opts...)
	if err != nil {
		return nil, err
	}
	return c.HTTP, nil
}

// Format implements fmt.Formatter: a Client prints as its pool's key,
// never walking into the vault it holds, whatever the verb.
func (c *Client) Format(f fmt.State, _ rune) {
	if c.Pool == nil {
		fmt.Fprint(f, "authvault.Client{}")
		return
	}
	fmt.Fprintf(f, "authvault.Client{%s}", c.Pool.Key())
}
