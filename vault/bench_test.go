//go:build !windows

package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/renameio/v2"

	"github.com/authvault/authvault/records"
)

// benchRecord is a typical OAuth account: what a plaintext auth.json holds
// per provider today.
func benchRecord() *records.Record {
	return oauthRecord("anthropic", "me@example.com",
		"sk-ant-oat01-"+string(make([]byte, 0))+"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"sk-ant-ort01-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
}

// settle backdates the manifest as a vault that is read far more often than
// written is in steady state; a manifest written in the last two seconds
// costs an extra read per Get (see dirStore.Stamp).
func settle(b *testing.B, tv *testVault) {
	past := time.Now().Add(-time.Minute)
	if err := os.Chtimes(filepath.Join(tv.dir, manifestName), past, past); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	tv := newTestVault(b)
	id := mustPut(b, tv.Vault, benchRecord()).ID()
	settle(b, tv)
	b.Run("cold", func(b *testing.B) {
		v := tv.reopen(b)
		b.ReportAllocs()
		for b.Loop() {
			v.mu.Lock()
			clear(v.cache)
			v.mu.Unlock()
			if _, err := v.Get(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hot", func(b *testing.B) {
		v := tv.reopen(b)
		if _, err := v.Get(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Get(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	tv := newTestVault(b)
	r := benchRecord()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tv.Put(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateState is one pool state write: lock, read the blob,
// rewrite it in place (no fsync), as every cooldown costs.
func BenchmarkUpdateState(b *testing.B) {
	ctx := context.Background()
	tv := newTestVault(b)
	state := make([]byte, 2048) // about four accounts' state
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tv.UpdateState(ctx, "pool", func([]byte) ([]byte, error) { return state, nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// plainRecord is the same account as plaintext JSON, with the same fields,
// the way tools store tokens today.
type plainRecord struct {
	Provider  string `json:"provider"`
	Namespace string `json:"namespace"`
	Label     string `json:"label"`
	Type      string `json:"type"`
	OAuth     struct {
		Access    string    `json:"access"`
		Refresh   string    `json:"refresh"`
		Expires   time.Time `json:"expires"`
		AccountID string    `json:"account_id,omitempty"`
		Scopes    []string  `json:"scopes"`
		Client    string    `json:"client_id"`
	} `json:"oauth"`
	Meta       map[string]string `json:"meta"`
	Created    time.Time         `json:"created"`
	Updated    time.Time         `json:"updated"`
	Generation uint64            `json:"generation"`
}

func plainFrom(r *records.Record) plainRecord {
	p := plainRecord{Provider: r.Provider, Namespace: r.Namespace, Label: r.Label, Type: string(r.Kind),
		Meta: r.Meta, Created: time.Now().UTC(), Updated: time.Now().UTC(), Generation: 7}
	p.OAuth.Access, p.OAuth.Refresh = r.OAuth.Access.Reveal(), r.OAuth.Refresh.Reveal()
	p.OAuth.Expires, p.OAuth.Scopes, p.OAuth.Client = r.OAuth.Expiry, r.OAuth.Scopes, r.OAuth.ClientID
	return p
}

func BenchmarkPlainJSON(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "auth.json")
	data, _ := json.Marshal(plainFrom(benchRecord()))
	if err := renameio.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			var m plainRecord
			if err := json.Unmarshal(raw, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.Marshal(plainFrom(benchRecord()))
			if err != nil {
				b.Fatal(err)
			}
			if err := renameio.WriteFile(path, data, 0o600); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			id, _ := age.GenerateHybridIdentity()
			dir := b.TempDir() + "/v"
			v, err := Create(ctx, dir, []age.Recipient{id.Recipient()})
			if err != nil {
				b.Fatal(err)
			}
			err = v.Batch(ctx, func(bt *Batch) error {
				for i := 0; i < n; i++ {
					r := benchRecord()
					r.Label = fmt.Sprintf("user%05d@example.com", i)
					if err := bt.Put(r); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			v.Close()
			b.ReportAllocs()
			for b.Loop() {
				v, err := Open(ctx, dir, []age.Identity{id})
				if err != nil {
					b.Fatal(err)
				}
				v.Close()
			}
		})
	}
}
