package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
	"github.com/authvault/authvault/vault/redisstore"
)

func TestVaultOnRedis(t *testing.T) {
	ctx := context.Background()
	raw := sharedURL(t)
	id := newIdentity(t)
	v1 := createVault(t, raw, id)
	if _, err := openVaultErr(raw, id); err != nil {
		t.Fatalf("Open right after Create: %v", err)
	}
	s, err := redisstore.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Create(ctx, s.String(), []age.Recipient{id.Recipient()}, vault.WithStore(s)); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	s.Close()

	if got, err := vault.StoreID(openStore(t, raw)); err != nil || got != v1.ID() {
		t.Errorf("StoreID = %q, %v; want %q", got, err, v1.ID())
	}
	if _, err := vault.StoreID(openStore(t, sharedURL(t))); !errors.Is(err, vault.ErrNoVault) {
		t.Errorf("StoreID of an empty prefix: %v, want ErrNoVault", err)
	}

	api := mustPut(t, v1, apiRecord("openai", "work@example.com", "sk-proj-SECRETKEYVALUE"))
	oa := mustPut(t, v1, oauthRecord("anthropic", "me@example.com", "sk-ant-oat01-ACCESSVALUE", "sk-ant-ort01-REFRESHVALUE"))

	v2 := openVault(t, raw, id) // another replica
	for _, want := range []*records.Record{api, oa} {
		got, err := v2.Get(ctx, want.ID())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("replica 2 reads (-want +got):\n%s", diff)
		}
	}
	// A change by one replica is seen by the other's next Get, cache or
	// not.
	if _, err := v1.Get(ctx, oa.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.Update(ctx, oa.ID(), func(r *records.Record) error {
		r.OAuth.Access = "sk-ant-oat01-ROTATEDVALUE"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := v1.Get(ctx, oa.ID())
	if err != nil || got.OAuth.Access.Reveal() != "sk-ant-oat01-ROTATEDVALUE" {
		t.Fatalf("replica 1 after replica 2's update: %v %v", got, err)
	}
	es, err := v1.List(ctx, vault.Filter{})
	if err != nil || len(es) != 2 {
		t.Fatalf("List: %v %v", es, err)
	}

	// State blobs, which the pool uses, are shared the same way.
	st, err := v1.UpdateState(ctx, "pool.x", func([]byte) ([]byte, error) { return []byte("cooling"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if data, _, err := v2.ReadState(ctx, "pool.x"); err != nil || string(data) != "cooling" {
		t.Fatalf("ReadState on replica 2: %q %v", data, err)
	}
	if v1.StateChanged("pool.x", st) {
		t.Error("StateChanged without a change")
	}
	if _, err := v2.UpdateState(ctx, "pool.x", func([]byte) ([]byte, error) { return []byte("ready"), nil }); err != nil {
		t.Fatal(err)
	}
	if !v1.StateChanged("pool.x", st) {
		t.Error("StateChanged missed replica 2's write")
	}

	// Nothing secret or identifying reaches Redis.
	rc := rawClient(t, raw)
	for _, k := range keysOf(t, raw) {
		var vals []string
		switch typ, _ := rc.Type(ctx, k).Result(); typ {
		case "hash":
			m, _ := rc.HGetAll(ctx, k).Result()
			for _, v := range m {
				vals = append(vals, v)
			}
		case "set":
			vals, _ = rc.SMembers(ctx, k).Result()
		case "string":
			s, _ := rc.Get(ctx, k).Result()
			vals = []string{s}
		}
		for _, leak := range []string{"SECRETKEYVALUE", "ACCESSVALUE", "REFRESHVALUE", "ROTATEDVALUE", "example.com", "anthropic", "openai", "pool.x", "cooling"} {
			if strings.Contains(k, leak) || strings.Contains(strings.Join(vals, "\x00"), leak) {
				t.Errorf("%q is visible in Redis under %s", leak, k)
			}
		}
	}

	if err := v1.Delete(ctx, api.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.Get(ctx, api.ID()); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Get of a deleted record on replica 2: %v", err)
	}
	rep, err := v2.Verify(ctx)
	if err != nil || rep.Records != 1 || rep.Orphans != 0 {
		t.Fatalf("Verify: %+v %v", rep, err)
	}

	if _, err := openVaultErr(raw, newIdentity(t)); !errors.Is(err, vault.ErrWrongKey) {
		t.Errorf("Open with another key: %v, want ErrWrongKey", err)
	}
	if _, err := openVaultErr(sharedURL(t), id); !errors.Is(err, vault.ErrNoVault) {
		t.Errorf("Open of an empty prefix: %v, want ErrNoVault", err)
	}
}

// A key rotation on Redis commits through the conditional manifest
// write, leaves no old blob behind, and other replicas follow.
func TestRekeyOnRedis(t *testing.T) {
	ctx := context.Background()
	raw := sharedURL(t)
	id := newIdentity(t)
	v := createVault(t, raw, id)
	for _, l := range []string{"a", "b", "c"} {
		mustPut(t, v, apiRecord("openai", l, "key-"+l))
	}
	if _, err := v.UpdateState(ctx, "pool.y", func([]byte) ([]byte, error) { return []byte("s"), nil }); err != nil {
		t.Fatal(err)
	}
	other := openVault(t, raw, id)
	if _, err := other.Get(ctx, records.ID{Provider: "openai", Namespace: "default", Label: "a"}); err != nil {
		t.Fatal(err)
	}
	id2 := newIdentity(t)
	if err := v.Rekey(ctx, []age.Recipient{id.Recipient(), id2.Recipient()}, vault.RekeyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []*vault.Vault{other, openVault(t, raw, id2)} {
		r, err := o.Get(ctx, records.ID{Provider: "openai", Namespace: "default", Label: "b"})
		if err != nil || r.API.Key.Reveal() != "key-b" {
			t.Fatalf("after rekey: %v %v", r, err)
		}
		if data, _, err := o.ReadState(ctx, "pool.y"); err != nil || string(data) != "s" {
			t.Fatalf("state after rekey: %q %v", data, err)
		}
		if rep, err := o.Verify(ctx); err != nil || rep.Orphans != 0 {
			t.Fatalf("Verify after rekey: %+v %v", rep, err)
		}
	}
	s := openStore(t, raw)
	if recs, _ := s.List("records"); len(recs) != 3 {
		t.Errorf("%d record blobs after rekey, want 3", len(recs))
	}
	if next, _ := s.List(""); len(next) != 2 { // vault.json, manifest.avm
		t.Errorf("top-level blobs after rekey: %v", next)
	}
}

// If the manifest changes between the lock and the commit (possible only
// when a lock was lost), the commit is refused: the compare-and-set on
// the manifest's version.
func TestCommitConflictRefused(t *testing.T) {
	ctx := context.Background()
	raw := sharedURL(t)
	id := newIdentity(t)
	v := createVault(t, raw, id)
	mustPut(t, v, apiRecord("openai", "a", "key-a"))
	intruder := openStore(t, raw) // holds no lock: its writes are not fenced
	err := v.Batch(ctx, func(b *vault.Batch) error {
		if err := b.Put(apiRecord("openai", "b", "key-b")); err != nil {
			return err
		}
		m, err := intruder.Read("manifest.avm")
		if err != nil {
			return err
		}
		return intruder.Write("manifest.avm", m) // same bytes, new version
	})
	if !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("commit over a changed manifest: %v, want ErrConflict", err)
	}
	v2 := openVault(t, raw, id)
	if _, err := v2.Get(ctx, records.ID{Provider: "openai", Namespace: "default", Label: "b"}); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("the refused record is visible: %v", err)
	}
	if _, err := v2.Verify(ctx); err != nil {
		t.Errorf("Verify: %v", err)
	}
	// The next attempt, from a fresh read, commits.
	mustPut(t, v, apiRecord("openai", "b", "key-b"))
}

// memStore is a vault.Store in memory: a store of another kind than
// Redis, for Copy. failWrites > 0 makes the n-th write from now fail.
type memStore struct {
	mu         sync.Mutex
	lock       chan struct{}
	blobs      map[string][]byte
	vers       map[string]uint64
	seq        uint64
	failWrites int
}

func newMemStore() *memStore {
	return &memStore{lock: make(chan struct{}, 1), blobs: map[string][]byte{}, vers: map[string]uint64{}}
}

var errInjected = errors.New("injected write failure")

func (m *memStore) Read(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[name]
	if !ok {
		return nil, notExist(name)
	}
	return bytes.Clone(b), nil
}

func (m *memStore) Stamp(name string) (vault.Stamp, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[name]; !ok {
		return vault.Stamp{}, notExist(name)
	}
	return vault.Stamp{Version: m.vers[name], Size: int64(len(m.blobs[name]))}, nil
}

func (m *memStore) Write(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWrites > 0 {
		m.failWrites--
		if m.failWrites == 0 {
			return errInjected
		}
	}
	m.seq++
	m.blobs[name], m.vers[name] = bytes.Clone(data), m.seq
	return nil
}

func (m *memStore) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, name)
	return nil
}

func (m *memStore) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.blobs {
		if strings.HasPrefix(n, dir+"/") {
			out = append(out, n)
		}
	}
	return out, nil
}

func (m *memStore) Lock(ctx context.Context, name string) (func(), error) {
	select {
	case m.lock <- struct{}{}:
		return func() { <-m.lock }, nil
	case <-ctx.Done():
		return nil, vault.ErrLockTimeout
	}
}

func (m *memStore) Close() error { return nil }

func notExist(name string) error { return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist} }
