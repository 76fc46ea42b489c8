package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/adapters/copilot"
	"github.com/authvault/authvault/adapters/cursor"
	"github.com/authvault/authvault/adapters/discovery"
	"github.com/authvault/authvault/adapters/google"
	"github.com/authvault/authvault/adapters/openai"
	providerpkg "github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/internal/cli"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

var modelsCommand = &command{
	name:     "models",
	synopsis: "models PROVIDER [--namespace N] [--refresh] [--json] [--ttl D] [--base-url URL]",
	summary:  "list the models a provider offers to your accounts",
	help: `Lists the models a provider offers, from its OpenAI-compatible model list
(GET BASE/models), one id per line. The request is authorized with the
first ready account of the provider's pool in namespace N (an OAuth token
that has expired is refreshed first, and the new one stored), and nothing
is recorded against the account: a listing is not traffic.

The list is cached, sealed, in the vault's state, shared by every process
using the vault: for the TTL it is served without a request; after that
it is revalidated with its ETag (a 304 answer renews it without a new
download).

The base URLs:
  anthropic  https://api.anthropic.com/v1 (the first page of up to 20
             models is what Anthropic answers without paging)
  openai     https://api.openai.com/v1 (API-key accounts; ChatGPT sign-in
             tokens are for the ChatGPT backend, which has no such list)
  google     https://generativelanguage.googleapis.com/v1beta/openai (the
             Gemini API's OpenAI-compatible endpoint)
  copilot    each account's Copilot API endpoint
  qwen       each account's API base (its resource_url)
  cursor     none: Cursor's API has no OpenAI-compatible model list
Other providers (a custom OpenAI-compatible service) use --base-url, else
the account's Meta base_url.

  --namespace N    the pool's namespace (default "default")
  --refresh        ask the server even when the cached list is fresh, and
                   cache its answer
  --json           print a JSON array of {"id", "owned_by"}
  --ttl D          how long a cached list is served without asking (a Go
                   duration; default 12h; 0 revalidates every time)
  --base-url URL   the API base whose /models is listed, instead of the
                   provider's (self-hosted or proxied services)`,
	setup: func(fs *flag.FlagSet) runFunc {
		o := &modelsOptions{}
		fs.StringVar(&o.namespace, "namespace", records.DefaultNamespace, "")
		fs.BoolVar(&o.refresh, "refresh", false, "")
		fs.BoolVar(&o.json, "json", false, "")
		fs.DurationVar(&o.ttl, "ttl", discovery.DefaultTTL, "")
		fs.StringVar(&o.baseURL, "base-url", "", "")
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("name exactly one provider")
			}
			return runModels(e, args[0], o)
		}
	},
}

type modelsOptions struct {
	namespace string
	refresh   bool
	json      bool
	ttl       time.Duration
	baseURL   string
}

// modelBases are the OpenAI-compatible bases of the named providers.
// Copilot and Qwen requests are moved to each account's own endpoint by
// their adapters' Authorize.
var modelBases = map[string]string{
	anthropic.ProviderID: anthropic.DefaultBaseURL + "/v1",
	openai.ProviderID:    openai.DefaultBaseURL,
	google.ProviderID:    google.DefaultBaseURL + "/v1beta/openai",
	copilot.Provider:     copilot.DefaultAPIURL,
	qwen.Provider:        qwen.DefaultBaseURL,
}

// noModelList says why a provider has no OpenAI-compatible list.
var noModelList = map[string]string{
	cursor.Provider: "Cursor's API has no OpenAI-compatible model list",
}

// modelKinds restricts the accounts that may list a provider's models;
// a provider not named takes any kind.
var modelKinds = map[string][]records.Kind{
	openai.ProviderID: {records.KindAPI},
}

// modelsRefreshTimeout bounds a token refresh before the listing.
const modelsRefreshTimeout = 60 * time.Second

// modelsHTTPTimeout bounds the listing request.
const modelsHTTPTimeout = 60 * time.Second

func runModels(e *env, provider string, o *modelsOptions) error {
	if why, ok := noModelList[provider]; ok && o.baseURL == "" {
		return fmt.Errorf("%s: %s", provider, why)
	}
	key := pool.Key{Provider: provider, Namespace: o.namespace}
	if err := (records.ID{Provider: provider, Namespace: o.namespace, Label: "x"}).Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	if o.baseURL != "" {
		if _, err := providerpkg.ParseBaseURL(o.baseURL, false); err != nil {
			return cli.Usagef("--base-url: %v", err)
		}
	}

	u, err := e.openVault()
	if err != nil {
		return err
	}
	defer u.Close()
	p, err := pool.Open(e.ctx, u.Vault, key)
	if err != nil {
		return err
	}
	defer p.Close()
	rec, err := firstReadyAccount(e.ctx, u.Vault, p, key)
	if err != nil {
		return err
	}

	a, named := adapters.Lookup(provider)
	base := o.baseURL
	if base == "" {
		base = modelBases[provider]
	}
	if !named {
		if base == "" {
			base = rec.Meta[adapters.MetaBaseURL]
		}
		if base == "" {
			return fmt.Errorf("%s is not a provider vaultkey knows the API of: pass --base-url URL (its OpenAI-compatible base), or set the account's Meta base_url", provider)
		}
		if a, err = bearer.New(provider); err != nil {
			return err
		}
	}
	if base == "" {
		if b, ok := a.(interface{ BaseURL() *url.URL }); ok && b.BaseURL() != nil {
			base = b.BaseURL().String()
		}
	}
	if base == "" {
		return fmt.Errorf("%s: no known OpenAI-compatible base URL: pass --base-url URL", provider)
	}

	at := &accountTransport{
		ctx: e.ctx, vault: u.Vault, pool: p, adapter: a, rec: rec,
		base: http.DefaultTransport, refreshClient: &http.Client{Timeout: modelsRefreshTimeout},
	}
	client := &http.Client{Transport: at, Timeout: modelsHTTPTimeout}
	cache := stateCache(u.Vault, o.refresh)
	models, err := discovery.Models(e.ctx, client, base,
		discovery.WithCache(cache),
		discovery.WithCacheKey(fmt.Sprintf("models %s %s", key, base)),
		discovery.WithTTL(o.ttl),
		discovery.WithCacheErrors(func(err error) { e.notef("warning: model list cache: %v", err) }),
	)
	if err != nil {
		var se *discovery.StatusError
		if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed) {
			return fmt.Errorf("%s answers no model list at %s/models (%v): it may have no OpenAI-compatible list", provider, strings.TrimRight(base, "/"), err)
		}
		return fmt.Errorf("listing %s models with %s: %w", provider, rec.ID(), err)
	}
	slices.SortFunc(models, func(a, b discovery.Model) int { return strings.Compare(a.ID, b.ID) })
	if o.json {
		return cli.WriteJSON(e.stdout, models)
	}
	if len(models) == 0 {
		e.notef("%s lists no models", base)
	}
	for _, m := range models {
		fmt.Fprintln(e.stdout, m.ID)
	}
	return nil
}

// firstReadyAccount returns the record of the first account of p, in pool
// order, that is ready and whose kind can list the provider's models.
func firstReadyAccount(ctx context.Context, v *vault.Vault, p *pool.Pool, key pool.Key) (*records.Record, error) {
	accts, err := p.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	if len(accts) == 0 {
		return nil, fmt.Errorf("no %s accounts in namespace %s (add one with: vaultkey login or vaultkey accounts add-key)", key.Provider, key.Namespace)
	}
	kinds := modelKinds[key.Provider]
	now := time.Now()
	unsuitable := 0
	for _, a := range accts {
		ready := a.Availability == pool.Ready || a.Availability == pool.Cooling && !a.Until.After(now)
		if !ready {
			continue
		}
		rec, err := v.Get(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if kinds != nil && !slices.Contains(kinds, rec.Kind) {
			unsuitable++
			continue
		}
		return rec, nil
	}
	if unsuitable > 0 {
		return nil, fmt.Errorf("%s: only %s accounts can list models, and pool %s has no ready one (ChatGPT sign-in tokens have no OpenAI-compatible model list)", key.Provider, kindNames(kinds), key)
	}
	return nil, fmt.Errorf("no ready account in pool %s (see: vaultkey accounts list)", key)
}

func kindNames(kinds []records.Kind) string {
	var s []string
	for _, k := range kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, " or ")
}

// stateCache keeps model lists in the vault's sealed state blobs; with
// bypass, nothing is served from it (the fresh answer is still stored).
func stateCache(v *vault.Vault, bypass bool) discovery.Cache {
	return discovery.CacheFuncs{
		LoadFunc: func(ctx context.Context, key string) ([]byte, error) {
			if bypass {
				return nil, nil
			}
			data, _, err := v.ReadState(ctx, stateName(key))
			if errors.Is(err, vault.ErrNotFound) {
				return nil, nil
			}
			return data, err
		},
		StoreFunc: func(ctx context.Context, key string, data []byte) error {
			_, err := v.UpdateState(ctx, stateName(key), func([]byte) ([]byte, error) { return data, nil })
			return err
		},
	}
}

// stateName is the state blob name of a cache key; the vault bounds names.
func stateName(key string) string {
	if len(key) <= 200 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "models " + hex.EncodeToString(sum[:])
}

// accountTransport sends requests with one account's credential, set by
// the provider's adapter on a clone of each request. It refreshes an
// expired OAuth token first, once, under the vault's per-record lock, and
// stores the new one, as the library's transport does; it reports nothing
// to the pool besides the refresh.
type accountTransport struct {
	ctx           context.Context
	vault         *vault.Vault
	pool          *pool.Pool
	adapter       adapters.Adapter
	rec           *records.Record
	base          http.RoundTripper
	refreshClient *http.Client
}

// refreshSkew is how long before its expiry a token is replaced.
const refreshSkew = time.Minute

func needsRefresh(rec *records.Record, now time.Time) bool {
	if rec.OAuth == nil || rec.OAuth.Refresh.IsZero() {
		return false
	}
	if rec.OAuth.Access.IsZero() {
		return true
	}
	return !rec.OAuth.Expiry.IsZero() && !now.Add(refreshSkew).Before(rec.OAuth.Expiry)
}

func (t *accountTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if needsRefresh(t.rec, time.Now()) {
		rec, err := t.refresh(req.Context())
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
		t.rec = rec
	}
	out := req.Clone(req.Context())
	if err := t.adapter.Authorize(out, t.rec); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("authorizing the request with %s: %w", t.rec.ID(), err)
	}
	return t.base.RoundTrip(out)
}

// refresh obtains and stores a fresh token for the account. Inside the
// per-record lock the record is read again: a token another process
// refreshed meanwhile is used as it is, so a single-use refresh token is
// never sent twice.
func (t *accountTransport) refresh(ctx context.Context) (*records.Record, error) {
	id := t.rec.ID()
	// Detached from Ctrl-C: once sent, a refresh's answer may hold the
	// only copy of the next refresh token, and must be stored.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), modelsRefreshTimeout)
	defer cancel()
	unlock, err := t.vault.LockRecord(rctx, id)
	if err != nil {
		return nil, fmt.Errorf("refresh lock for %s: %w", id, err)
	}
	defer unlock()
	cur, err := t.vault.Get(rctx, id)
	if err != nil {
		return nil, err
	}
	if !needsRefresh(cur, time.Now()) {
		return cur, nil
	}
	fresh, err := t.adapter.Refresh(rctx, t.refreshClient, cur)
	if err != nil {
		_ = t.pool.RecordRefresh(rctx, id, false)
		return nil, fmt.Errorf("refreshing the token of %s: %w (sign in again with: vaultkey login %s)", id, err, id.Provider)
	}
	if fresh == nil || fresh.OAuth == nil {
		return nil, fmt.Errorf("refreshing the token of %s: the %s adapter returned no token", id, id.Provider)
	}
	stored, err := t.vault.Update(rctx, id, func(r *records.Record) error {
		r.OAuth = fresh.Clone().OAuth
		if len(fresh.Meta) > 0 {
			if r.Meta == nil {
				r.Meta = map[string]string{}
			}
			maps.Copy(r.Meta, fresh.Meta)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("refreshed %s but could not store the new token: %w", id, err)
	}
	_ = t.pool.RecordRefresh(rctx, id, true)
	return stored, nil
}
