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

	"github.com/authvault/authvault/vault"
)

// ClientsStateName is the name of the vault state blob that holds the
// gateway's clients: for each, a SHA-256 digest of its token (never the
// token) and when it was added.
const ClientsStateName = "gateway.clients"

// TokenPrefix starts every client token, so that one is recognisable in
// a config file (and by secret scanners).
const TokenPrefix = "avk-"

// Errors of the client functions.
var (
	ErrClientExists   = errors.New("gateway: client already exists")
	ErrNoClient       = errors.New("gateway: no such client")
	ErrClientName     = errors.New("gateway: invalid client name (1 to 64 of A-Z a-z 0-9 . _ @ -)")
	ErrClientsCorrupt = errors.New("gateway: clients state does not decode")
)

// Client is a local program allowed to use the gateway.
type Client struct {
	Name  string    `json:"-"`
	Added time.Time `json:"added"`
	// Hash is the hex SHA-256 of the token. A token is 32 random bytes,
	// so a fast hash is enough: nothing can be guessed back from it.
	Hash string `json:"sha256"`
}

type clientsBlob struct {
	V       int                `json:"v"`
	Clients map[string]*Client `json:"clients"`
}

// StateStore is what the client functions need from a vault;
// *vault.Vault implements it.
type StateStore interface {
	ReadState(ctx context.Context, name string) ([]byte, vault.StateStamp, error)
	StateChanged(name string, since vault.StateStamp) bool
	UpdateState(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) (vault.StateStamp, error)
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

func decodeClients(data []byte) (map[string]*Client, error) {
	var b clientsBlob
	if err := json.Unmarshal(data, &b); err != nil || b.V != 1 {
		return nil, ErrClientsCorrupt
	}
	out := make(map[string]*Client, len(b.Clients))
	for name, c := range b.Clients {
		if c == nil || validClientName(name) != nil {
			return nil, ErrClientsCorrupt
		}
		if h, err := hex.DecodeString(c.Hash); err != nil || len(h) != sha256.Size {
			return nil, ErrClientsCorrupt
		}
		c.Name = name
		out[name] = c
	}
	return out, nil
}

// readClients reads the clients; none when there is no blob. A blob that
// fails authentication or does not decode is an error: the gateway then
// admits nobody, and clients add refuses to overwrite it silently.
func readClients(ctx context.Context, s StateStore) (map[string]*Client, vault.StateStamp, error) {
	data, st, err := s.ReadState(ctx, ClientsStateName)
	if errors.Is(err, vault.ErrNotFound) {
		return map[string]*Client{}, st, nil
	}
	if err != nil {
		return nil, st, err
	}
	cs, err := decodeClients(data)
	return cs, st, err
}

// Clients lists the gateway's clients, by name.
func Clients(ctx context.Context, s StateStore) ([]Client, error) {
	cs, _, err := readClients(ctx, s)
	if err != nil {
		return nil, err
	}
	out := make([]Client, 0, len(cs))
	for _, c := range cs {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// AddClient adds a client called name and returns its token, the only
// time it is ever available: the vault keeps a digest of it.
func AddClient(ctx context.Context, s StateStore, name string) (string, error) {
	if err := validClientName(name); err != nil {
		return "", err
	}
	// A damaged blob is not replaced behind the operator's back: every
	// other client would lose its access.
	if _, _, err := readClients(ctx, s); err != nil {
		return "", fmt.Errorf("reading the clients: %w (vaultkey clients reset removes every client)", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	err := updateClients(ctx, s, func(cs map[string]*Client) error {
		if _, ok := cs[name]; ok {
			return fmt.Errorf("%w: %s", ErrClientExists, name)
		}
		cs[name] = &Client{Name: name, Added: time.Now().UTC(), Hash: digest(token)}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RemoveClient removes the client called name; its token stops working
// at the next request of every gateway on the vault.
func RemoveClient(ctx context.Context, s StateStore, name string) error {
	if _, _, err := readClients(ctx, s); err != nil {
		return fmt.Errorf("reading the clients: %w (vaultkey clients reset removes every client)", err)
	}
	return updateClients(ctx, s, func(cs map[string]*Client) error {
		if _, ok := cs[name]; !ok {
			return fmt.Errorf("%w: %s", ErrNoClient, name)
		}
		delete(cs, name)
		return nil
	})
}

// ResetClients removes every client, whatever the state of the blob that
// holds them: the way out when it no longer authenticates or decodes.
func ResetClients(ctx context.Context, s StateStore) error {
	_, err := s.UpdateState(ctx, ClientsStateName, func([]byte) ([]byte, error) {
		return json.Marshal(clientsBlob{V: 1, Clients: map[string]*Client{}})
	})
	return err
}

func updateClients(ctx context.Context, s StateStore, fn func(map[string]*Client) error) error {
	_, err := s.UpdateState(ctx, ClientsStateName, func(old []byte) ([]byte, error) {
		cs := map[string]*Client{}
		if old != nil {
			var err error
			if cs, err = decodeClients(old); err != nil {
				return nil, err
			}
		}
		if err := fn(cs); err != nil {
			return nil, err
		}
		return json.Marshal(clientsBlob{V: 1, Clients: cs})
	})
	return err
}

func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// clientSet is the gateway's view of the clients, read again whenever
// the blob changes (one stat per request).
type clientSet struct {
	store StateStore

	mu      sync.Mutex
	stamp   vault.StateStamp
	loaded  bool
	err     error
	digests []clientDigest
}

type clientDigest struct {
	name string
	sum  [sha256.Size]byte
}

func (s *clientSet) current(ctx context.Context) ([]clientDigest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded && !s.store.StateChanged(ClientsStateName, s.stamp) {
		return s.digests, s.err
	}
	cs, st, err := readClients(ctx, s.store)
	s.loaded, s.stamp, s.err, s.digests = true, st, err, nil
	for _, c := range cs {
		d := clientDigest{name: c.Name}
		hex.Decode(d.sum[:], []byte(c.Hash))
		s.digests = append(s.digests, d)
	}
	return s.digests, s.err
}

// tokenHeaders are where clients put the token: what Anthropic, OpenAI
// and Google clients send as their API key.
var tokenHeaders = []string{"X-Api-Key", "Authorization", "X-Goog-Api-Key"}

// presented returns the tokens a request carries.
func presented(h http.Header) []string {
	var out []string
	for _, k := range tokenHeaders {
		for _, v := range h[k] {
			if k == "Authorization" {
				scheme, tok, ok := strings.Cut(v, " ")
				if !ok || !strings.EqualFold(scheme, "Bearer") {
					continue
				}
				v = strings.TrimSpace(tok)
			}
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// authenticate returns the name of the client whose token the request
// carries. Every digest is compared in constant time, whatever matches.
func (s *clientSet) authenticate(ctx context.Context, h http.Header) (string, bool, error) {
	ds, err := s.current(ctx)
	if err != nil {
		return "", false, err
	}
	name := ""
	for _, tok := range presented(h) {
		sum := sha256.Sum256([]byte(tok))
		for _, d := range ds {
			if subtle.ConstantTimeCompare(sum[:], d.sum[:]) == 1 {
				name = d.name
			}
		}
	}
	return name, name != "", nil
}
