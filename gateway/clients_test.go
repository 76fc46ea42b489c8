package gateway

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authvault/authvault/vault"
)

func TestClientTokens(t *testing.T) {
	ctx := context.Background()
	v, dir, _ := newTestVault(t)
	tok, err := AddClient(ctx, v, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+43 {
		t.Fatalf("token %q", tok)
	}
	if _, err := AddClient(ctx, v, "laptop"); !errors.Is(err, ErrClientExists) {
		t.Fatalf("second add: %v", err)
	}
	for _, bad := range []string{"", "a b", "x/y", strings.Repeat("a", 65), "é"} {
		if _, err := AddClient(ctx, v, bad); !errors.Is(err, ErrClientName) {
			t.Errorf("name %q: %v", bad, err)
		}
	}
	cs, err := Clients(ctx, v)
	if err != nil || len(cs) != 1 || cs[0].Name != "laptop" || cs[0].Added.IsZero() {
		t.Fatalf("Clients: %+v, %v", cs, err)
	}
	// The vault holds a digest of the token, never the token.
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if strings.Contains(string(b), tok) || strings.Contains(string(b), tok[len(TokenPrefix):]) {
			t.Errorf("%s holds the token", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := RemoveClient(ctx, v, "laptop"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveClient(ctx, v, "laptop"); !errors.Is(err, ErrNoClient) {
		t.Fatalf("second rm: %v", err)
	}
}

// TestDamagedClients: a clients blob that does not decode or authenticate
// admits no one and is not overwritten behind the operator's back;
// ResetClients is the way out.
func TestDamagedClients(t *testing.T) {
	ctx := context.Background()
	for _, damage := range []string{"corrupt", "tampered"} {
		t.Run(damage, func(t *testing.T) {
			v, dir, _ := newTestVault(t)
			if _, err := AddClient(ctx, v, "laptop"); err != nil {
				t.Fatal(err)
			}
			want := ErrClientsCorrupt
			if damage == "corrupt" {
				v.UpdateState(ctx, ClientsStateName, func([]byte) ([]byte, error) { return []byte(`{"v":1,"clients":{"x":null}}`), nil })
			} else {
				// Another blob, authentic under its own name, put in the
				// clients blob's place.
				want = vault.ErrTampered
				clients, _ := filepath.Glob(filepath.Join(dir, "state", "*"))
				v.UpdateState(ctx, "other", func([]byte) ([]byte, error) { return []byte(`{"v":1,"clients":{}}`), nil })
				all, _ := filepath.Glob(filepath.Join(dir, "state", "*"))
				if len(clients) != 1 || len(all) != 2 {
					t.Fatalf("state files %v then %v", clients, all)
				}
				other := all[0]
				if other == clients[0] {
					other = all[1]
				}
				b, err := os.ReadFile(other)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(clients[0], b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := AddClient(ctx, v, "other"); !errors.Is(err, want) || !strings.Contains(err.Error(), "clients reset") {
				t.Fatalf("add: %v, want %v", err, want)
			}
			if err := RemoveClient(ctx, v, "laptop"); !errors.Is(err, want) {
				t.Fatalf("rm: %v, want %v", err, want)
			}
			if _, err := New(ctx, v); !errors.Is(err, want) {
				t.Fatalf("New: %v, want %v", err, want)
			}
			if err := ResetClients(ctx, v); err != nil {
				t.Fatal(err)
			}
			if cs, err := Clients(ctx, v); err != nil || len(cs) != 0 {
				t.Fatalf("after reset: %v, %v", cs, err)
			}
			if _, err := AddClient(ctx, v, "other"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
