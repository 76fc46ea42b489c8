package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// ClientProvider is the provider id of the vault records that hold the
// gateway's clients, one record per client (namespace "clients", label
// the client's name). They are sealed and committed with the manifest
// like every record, so that a removed client stays removed: they are
// not accounts, and no adapter serves them.
const ClientProvider = "authvault.gateway"

const (
	clientsNamespace = "clients"
	// legacyClientsState is the state blob earlier versions kept the
	// clients in. It is read once, its clients written as records, and
	// removed; the migration record says it was, so that an old copy of
	// the blob put back later revives nobody.
	legacyClientsState = "gateway.clients"
	migratedNamespace  = "migrated"
)

// migratedID marks a vault whose legacy clients blob was migrated (or
// abandoned by ResetClients).
var migratedID = records.ID{Provider: ClientProvider, Namespace: migratedNamespace, Label: legacyClientsState}

// tokenPrefix starts every client token, so that one is recognisable in
// a config file (and by secret scanners).
const tokenPrefix = "avk-"

// Errors of the client functions.
var (
	ErrClientExists   = errors.New("gateway: client already exists")
	ErrNoClient       = errors.New("gateway: no such client")
	ErrClientName     = errors.New("gateway: invalid client name (1 to 64 of A-Z a-z 0-9 . _ @ -)")
	ErrClientsCorrupt = errors.New("gateway: a client record does not decode")
)

// Client is a local program allowed to use the gateway.
type Client struct {
	Name  string
	Added time.Time
	// Hash is the hex SHA-256 of the token. A token is 32 random bytes,
	// so a fast hash is enough: nothing can be guessed back from it.
	Hash string
}

func validClientName(name string) error {
	if name == "" || len(name) > 64 {
		return ErrClientName
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._@-", c)
		if !ok {
			return ErrClientName
		}
	}
	return nil
}

func clientID(name string) records.ID {
	return records.ID{Provider: ClientProvider, Namespace: clientsNamespace, Label: name}
}

// clientRecord is how a client is stored: an API-key record whose key is
// the hex SHA-256 of the token, created when the client was added.
func clientRecord(name, hash string, added time.Time) *records.Record {
	return &records.Record{Provider: ClientProvider, Namespace: clientsNamespace, Label: name,
		Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(hash)}, Created: added}
}

// validHash reports whether h is a lower-case hex SHA-256 digest.
func validHash(h string) bool {
	if len(h) != 2*sha256.Size || strings.ToLower(h) != h {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// clientOf decodes a client's record.
func clientOf(r *records.Record) (Client, error) {
	if r.Kind != records.KindAPI || r.API == nil || validClientName(r.Label) != nil || !validHash(r.API.Key.Reveal()) {
		return Client{}, fmt.Errorf("%w: %s", ErrClientsCorrupt, r.ID())
	}
	return Client{Name: r.Label, Added: r.Created, Hash: r.API.Key.Reveal()}, nil
}

// readClients reads every client from the vault, by name. A client
// record that cannot be read (tampered, rolled back, not a client) is an
// error: the gateway then admits nobody.
func readClients(ctx context.Context, v *vault.Vault) (map[string]Client, error) {
	if err := migrateClients(ctx, v); err != nil {
		return nil, err
	}
	entries, err := v.List(ctx, vault.Filter{Provider: ClientProvider, Namespace: clientsNamespace})
	if err != nil {
		return nil, err
	}
	out := make(map[string]Client, len(entries))
	for _, e := range entries {
		r, err := v.Get(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		c, err := clientOf(r)
		if err != nil {
			return nil, err
		}
		out[c.Name] = c
	}
	return out, nil
}

// Clients lists the gateway's clients, by name.
func Clients(ctx context.Context, v *vault.Vault) ([]Client, error) {
	cs, err := readClients(ctx, v)
	if err != nil {
		return nil, err
	}
	out := make([]Client, 0, len(cs))
	for _, c := range cs {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

const resetHint = "(vaultkey clients rm NAME removes one client, vaultkey clients reset every client)"

// AddClient adds a client called name and returns its token, the only
// time it is ever available: the vault keeps a digest of it.
func AddClient(ctx context.Context, v *vault.Vault, name string) (string, error) {
	if err := validClientName(name); err != nil {
		return "", err
	}
	if err := migrateClients(ctx, v); err != nil {
		return "", fmt.Errorf("reading the clients: %w %s", err, resetHint)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	err := v.Batch(ctx, func(b *vault.Batch) error {
		if _, err := b.Get(clientID(name)); err == nil {
			return fmt.Errorf("%w: %s", ErrClientExists, name)
		} else if !errors.Is(err, vault.ErrNotFound) {
			return fmt.Errorf("reading the clients: %w %s", err, resetHint)
		}
		return b.Put(clientRecord(name, digest(token), time.Time{}))
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RemoveClient removes the client called name; its token stops working
// at the next request of every gateway on the vault. A client whose
// record no longer reads (tampered, rolled back) is removed too.
func RemoveClient(ctx context.Context, v *vault.Vault, name string) error {
	if err := migrateClients(ctx, v); err != nil {
		return fmt.Errorf("reading the clients: %w %s", err, resetHint)
	}
	err := v.Batch(ctx, func(b *vault.Batch) error { return b.Delete(clientID(name)) })
	if errors.Is(err, vault.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNoClient, name)
	}
	return err
}

// ResetClients removes every client, whatever the state of their
// records, and any client list an earlier version left in a state blob:
// the way out when they no longer read.
func ResetClients(ctx context.Context, v *vault.Vault) error {
	err := v.Batch(ctx, func(b *vault.Batch) error {
		for _, e := range b.List(vault.Filter{Provider: ClientProvider, Namespace: clientsNamespace}) {
			if err := b.Delete(e.ID); err != nil {
				return err
			}
		}
		if _, err := b.Get(migratedID); err == nil {
			return nil
		}
		return b.Put(migratedMark())
	})
	if err != nil {
		return err
	}
	return v.DeleteState(ctx, legacyClientsState)
}

func migratedMark() *records.Record {
	return &records.Record{Provider: migratedID.Provider, Namespace: migratedID.Namespace, Label: migratedID.Label,
		Kind: records.KindAPI, API: &records.APIKey{}}
}

// legacyClients is the state blob of earlier versions:
// {"v":1,"clients":{name:{"added":time,"sha256":hex}}}.
type legacyClients struct {
	V       int `json:"v"`
	Clients map[string]*struct {
		Added time.Time `json:"added"`
		Hash  string    `json:"sha256"`
	} `json:"clients"`
}

// migrateClients moves the clients of an earlier version's state blob
// into records, once: the records and the migration mark are committed
// together, then the blob is removed. A blob found after the mark (an
// old copy put back) is removed unread. A blob that does not decode or
// authenticate is an error (ResetClients is the way out): its clients
// are not dropped behind the operator's back.
func migrateClients(ctx context.Context, v *vault.Vault) error {
	data, _, err := v.ReadState(ctx, legacyClientsState)
	if errors.Is(err, vault.ErrNotFound) {
		return nil
	}
	if _, gerr := v.Get(ctx, migratedID); gerr == nil {
		return v.DeleteState(ctx, legacyClientsState)
	} else if !errors.Is(gerr, vault.ErrNotFound) {
		return gerr
	}
	if err != nil {
		return err
	}
	var old legacyClients
	if err := json.Unmarshal(data, &old); err != nil || old.V != 1 {
		return fmt.Errorf("%w: the clients state blob of an earlier version", ErrClientsCorrupt)
	}
	for name, c := range old.Clients {
		if c == nil || validClientName(name) != nil || !validHash(c.Hash) {
			return fmt.Errorf("%w: the clients state blob of an earlier version", ErrClientsCorrupt)
		}
	}
	err = v.Batch(ctx, func(b *vault.Batch) error {
		if _, err := b.Get(migratedID); err == nil {
			return nil // another process migrated it meanwhile
		}
		for name, c := range old.Clients {
			// A client added since (by a process that could not remove
			// the blob) is the newer decision: it stays.
			if _, err := b.Get(clientID(name)); err == nil {
				continue
			} else if !errors.Is(err, vault.ErrNotFound) {
				return err
			}
			if err := b.Put(clientRecord(name, c.Hash, c.Added.UTC())); err != nil {
				return err
			}
		}
		return b.Put(migratedMark())
	})
	if err != nil {
		return fmt.Errorf("moving the clients into records: %w", err)
	}
	return v.DeleteState(ctx, legacyClientsState)
}

func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// clientSet is the gateway's view of the clients. A known token is
// checked against its client's record at every request (one vault Get:
// a stat of the manifest while nothing changed), so a removal is seen at
// the next request; an unknown one makes the set be read again.
type clientSet struct {
	vault *vault.Vault

	mu      sync.Mutex
	digests []clientDigest
}

type clientDigest struct {
	name string
	hash string // hex, as the record holds it
	sum  [sha256.Size]byte
}

// load reads the clients again. On an error the set is empty: nobody is
// admitted while the clients cannot be read.
func (s *clientSet) load(ctx context.Context) ([]clientDigest, error) {
	cs, err := readClients(ctx, s.vault)
	var ds []clientDigest
	for _, c := range cs {
		d := clientDigest{name: c.Name, hash: c.Hash}
		hex.Decode(d.sum[:], []byte(c.Hash))
		ds = append(ds, d)
	}
	s.mu.Lock()
	s.digests = ds
	s.mu.Unlock()
	return ds, err
}

func (s *clientSet) cached() []clientDigest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.digests
}

// tokenHeaders are where clients put the token: what Anthropic, OpenAI
// and Google clients send as their API key.
var tokenHeaders = [...]string{"X-Api-Key", "Authorization", "X-Goog-Api-Key"}

// maxTokens bounds how many presented tokens are tried, maxTokenLen
// how long one may be.
const (
	maxTokens   = 4
	maxTokenLen = 128
)

// presented returns the digests of the tokens a request carries, at
// most maxTokens of them, without allocating.
func presented(h http.Header, sums *[maxTokens][sha256.Size]byte) int {
	n := 0
	for _, k := range tokenHeaders {
		for _, v := range h[k] {
			if k == "Authorization" {
				scheme, tok, ok := strings.Cut(v, " ")
				if !ok || !strings.EqualFold(scheme, "Bearer") {
					continue
				}
				v = strings.TrimSpace(tok)
			}
			// A token of ours is 47 bytes: a longer one cannot match,
			// and a shorter one is hashed from the stack.
			if v != "" && len(v) <= maxTokenLen && n < maxTokens {
				var b [maxTokenLen]byte
				sums[n] = sha256.Sum256(b[:copy(b[:], v)])
				n++
			}
		}
	}
	return n
}

// match returns the client one of sums is the digest of. Every digest is
// compared in constant time, whatever matches.
func match(ds []clientDigest, sums [][sha256.Size]byte) *clientDigest {
	var found *clientDigest
	for _, sum := range sums {
		for i := range ds {
			if subtle.ConstantTimeCompare(sum[:], ds[i].sum[:]) == 1 {
				found = &ds[i]
			}
		}
	}
	return found
}

// authenticate returns the name of the client whose token the request
// carries. The client's record is read at every request (the vault's
// cache makes that a stat of the manifest while nothing changed): a
// removed client, a token replaced, a record rolled back or tampered
// with admits nobody. An error says the clients could not be read.
func (s *clientSet) authenticate(ctx context.Context, h http.Header) (string, bool, error) {
	var buf [maxTokens][sha256.Size]byte
	sums := buf[:presented(h, &buf)]
	if len(sums) == 0 {
		return "", false, nil
	}
	if d := match(s.cached(), sums); d != nil {
		if ok, err := s.check(ctx, d); ok || err != nil {
			return d.name, ok, err
		}
	}
	// Unknown, removed, or its token replaced: read the clients again.
	ds, err := s.load(ctx)
	if err != nil {
		return "", false, err
	}
	d := match(ds, sums)
	if d == nil {
		return "", false, nil
	}
	ok, err := s.check(ctx, d)
	return d.name, ok, err
}

// check reads d's record: is it still there, with the same token?
func (s *clientSet) check(ctx context.Context, d *clientDigest) (bool, error) {
	r, err := s.vault.Get(ctx, clientID(d.name))
	switch {
	case errors.Is(err, vault.ErrNotFound):
		return false, nil
	case err == nil && (r.Kind != records.KindAPI || r.API == nil):
		err = fmt.Errorf("%w: %s", ErrClientsCorrupt, r.ID())
	}
	if err != nil {
		s.mu.Lock()
		s.digests = nil // read again (and fail again) at the next request
		s.mu.Unlock()
		return false, err
	}
	return r.API.Key.Reveal() == d.hash, nil
}
