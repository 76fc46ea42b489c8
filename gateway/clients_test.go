package gateway

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/vault"
)

func TestClientTokens(t *testing.T) {
	ctx := context.Background()
	v, dir, _ := newTestVault(t)
	tok, err := AddClient(ctx, v, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) != len(tokenPrefix)+43 {
		t.Fatalf("token of %d bytes, prefix %q: want %q and 43 more", len(tok), tok[:min(len(tok), len(tokenPrefix))], tokenPrefix)
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
		if strings.Contains(string(b), tok) || strings.Contains(string(b), tok[len(tokenPrefix):]) {
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

// recordFiles returns the vault's record files and their contents.
func recordFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	names, _ := filepath.Glob(filepath.Join(dir, "records", "*.avr"))
	for _, n := range append(names, filepath.Join(dir, "manifest.avm")) {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// newFiles returns the record files in after and not in before.
func newFiles(before, after map[string][]byte) []string {
	var out []string
	for n := range after {
		if _, ok := before[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// TestDamagedClients: clients that do not decode or authenticate (a
// client record tampered with, or an earlier version's clients blob)
// admit no one and are not overwritten behind the operator's back;
// RemoveClient and ResetClients are the way out.
func TestDamagedClients(t *testing.T) {
	ctx := context.Background()
	for _, damage := range []string{"legacy corrupt", "legacy tampered", "record tampered"} {
		t.Run(damage, func(t *testing.T) {
			v, dir, id := newTestVault(t)
			want := vault.ErrTampered
			switch damage {
			case "legacy corrupt":
				want = ErrClientsCorrupt
				v.UpdateState(ctx, legacyClientsState, func([]byte) ([]byte, error) { return []byte(`{"v":1,"clients":{"x":null}}`), nil })
			case "legacy tampered":
				// Another blob, authentic under its own name, put in the
				// clients blob's place.
				v.UpdateState(ctx, legacyClientsState, func([]byte) ([]byte, error) { return []byte(`{"v":1,"clients":{}}`), nil })
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
			case "record tampered":
				// Another client's record, authentic under its own name,
				// put in laptop's place.
				before := recordFiles(t, dir)
				if _, err := AddClient(ctx, v, "laptop"); err != nil {
					t.Fatal(err)
				}
				mid := recordFiles(t, dir)
				if _, err := AddClient(ctx, v, "desk"); err != nil {
					t.Fatal(err)
				}
				laptop, desk := newFiles(before, mid), newFiles(mid, recordFiles(t, dir))
				if len(laptop) != 1 || len(desk) != 1 {
					t.Fatalf("new record files %v, %v", laptop, desk)
				}
				// Give desk's file laptop's generation, as a writer
				// swapping files would.
				if err := os.Rename(desk[0], desk[0]+".kept"); err != nil {
					t.Fatal(err)
				}
				b, _ := os.ReadFile(desk[0] + ".kept")
				if err := os.WriteFile(laptop[0], b, 0o600); err != nil {
					t.Fatal(err)
				}
				os.Rename(desk[0]+".kept", desk[0])
				// What another process reads: this one has laptop cached.
				v2, err := vault.Open(ctx, dir, []age.Identity{id})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { v2.Close() })
				v = v2
			}
			if _, err := AddClient(ctx, v, "other"); damage != "record tampered" && (!errors.Is(err, want) || !strings.Contains(err.Error(), "clients reset")) {
				t.Fatalf("add: %v, want %v", err, want)
			}
			if _, err := Clients(ctx, v); !errors.Is(err, want) {
				t.Fatalf("Clients: %v, want %v", err, want)
			}
			if _, err := New(ctx, v); !errors.Is(err, want) {
				t.Fatalf("New: %v, want %v", err, want)
			}
			if damage == "record tampered" {
				// The damaged client can be removed alone.
				if err := RemoveClient(ctx, v, "laptop"); err != nil {
					t.Fatal(err)
				}
				if cs, err := Clients(ctx, v); err != nil || len(cs) != 2 {
					t.Fatalf("after rm: %v, %v", cs, err)
				}
			} else if err := RemoveClient(ctx, v, "laptop"); !errors.Is(err, want) {
				t.Fatalf("rm: %v, want %v", err, want)
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

// putBack writes files as they were.
func putBack(t *testing.T, files map[string][]byte, only ...string) {
	t.Helper()
	for n, b := range files {
		if len(only) > 0 && !slices.Contains(only, n) {
			continue
		}
		if err := os.WriteFile(n, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRemovedClientStaysRemoved: a client is a record committed with the
// manifest, so that putting back an older copy of its files does not
// revive a removed token: the token is refused and the vault reports the
// rollback.
func TestRemovedClientStaysRemoved(t *testing.T) {
	ctx := context.Background()
	status := func(e *gatewayEnv, token string) int {
		t.Helper()
		resp := e.do("POST", "/anthropic/v1/messages", `{}`, http.Header{"X-Api-Key": {token}})
		readBody(t, resp)
		return resp.StatusCode
	}
	setup := func(t *testing.T) (*gatewayEnv, *vault.Vault, string, map[string][]byte, age.Identity) {
		up := newUpstream(t, rateLimitFirst)
		v, dir, id := newTestVault(t)
		addKeys(t, v, "anthropic", up.URL, "second")
		e := newGateway(t, v)
		if got := status(e, e.token); got != 200 {
			t.Fatalf("status %d", got)
		}
		saved := recordFiles(t, dir)
		// The operator removes the client, from another process.
		other, err := vault.Open(ctx, dir, []age.Identity{id})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		if err := RemoveClient(ctx, other, "laptop"); err != nil {
			t.Fatal(err)
		}
		if got := status(e, e.token); got != 401 {
			t.Fatalf("removed client: status %d", got)
		}
		return e, other, dir, saved, id
	}

	t.Run("record and manifest put back", func(t *testing.T) {
		e, _, _, saved, _ := setup(t)
		putBack(t, saved)
		if got := status(e, e.token); got != 401 {
			t.Fatalf("after the rollback: status %d, want 401", got)
		}
		if _, err := e.v.Verify(ctx); !errors.Is(err, vault.ErrRollback) {
			t.Fatalf("Verify: %v, want ErrRollback", err)
		}
		if !strings.Contains(e.logs.String(), "rollback") {
			t.Errorf("the log does not name the rollback:\n%s", e.logs.String())
		}
	})

	t.Run("record put back", func(t *testing.T) {
		e, other, _, saved, _ := setup(t)
		var files []string
		for n := range saved {
			if _, err := os.Stat(n); err != nil {
				files = append(files, n) // the removed client's file
			}
		}
		if len(files) != 1 {
			t.Fatalf("files gone with the client: %v", files)
		}
		putBack(t, saved, files...)
		if got := status(e, e.token); got != 401 {
			t.Fatalf("after the rollback: status %d, want 401", got)
		}
		// The file is not the vault's: nothing names it.
		if rep, err := other.Verify(ctx); err != nil || rep.Orphans != 1 {
			t.Fatalf("Verify: %+v, %v", rep, err)
		}
	})

	t.Run("older token's file under the new one's name", func(t *testing.T) {
		e, other, dir, saved, id := setup(t)
		before := recordFiles(t, dir)
		tok2, err := AddClient(ctx, other, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		if got := status(e, tok2); got != 200 {
			t.Fatalf("new token: status %d", got)
		}
		cur := newFiles(before, recordFiles(t, dir))
		var old []byte
		for n, b := range saved {
			if _, err := os.Stat(n); err != nil {
				old = b
			}
		}
		if len(cur) != 1 || old == nil {
			t.Fatalf("files %v", cur)
		}
		if err := os.WriteFile(cur[0], old, 0o600); err != nil {
			t.Fatal(err)
		}
		if got := status(e, e.token); got != 401 {
			t.Fatalf("the removed token: status %d, want 401", got)
		}
		// A process that never read it (the others have it cached until
		// the manifest changes).
		third, err := vault.Open(ctx, dir, []age.Identity{id})
		if err != nil {
			t.Fatal(err)
		}
		defer third.Close()
		fresh, err := New(ctx, third)
		if !errors.Is(err, vault.ErrRollback) {
			t.Fatalf("New: %v, want ErrRollback", err)
		}
		if fresh != nil {
			fresh.Close()
		}
		if _, err := other.Verify(ctx); !errors.Is(err, vault.ErrRollback) {
			t.Fatalf("Verify: %v, want ErrRollback", err)
		}
	})
}

// TestLegacyClientsMigrated: the clients an earlier version kept in a
// state blob become records, once; an old copy of the blob put back
// later revives nobody.
func TestLegacyClientsMigrated(t *testing.T) {
	ctx := context.Background()
	up := newUpstream(t, rateLimitFirst)
	v, dir, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "second")
	tok := tokenPrefix + "legacy-token-of-an-earlier-version-0000000000"
	added := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	blob := `{"v":1,"clients":{"old":{"added":"` + added.Format(time.RFC3339) + `","sha256":"` + digest(tok) + `"}}}`
	if _, err := v.UpdateState(ctx, legacyClientsState, func([]byte) ([]byte, error) { return []byte(blob), nil }); err != nil {
		t.Fatal(err)
	}
	states, _ := filepath.Glob(filepath.Join(dir, "state", "*.avs"))
	if len(states) != 1 {
		t.Fatalf("state files %v", states)
	}
	oldCopy, err := os.ReadFile(states[0])
	if err != nil {
		t.Fatal(err)
	}

	e := newGateway(t, v) // reads the clients: migrates
	cs, err := Clients(ctx, v)
	if err != nil || len(cs) != 2 || cs[1].Name != "old" || !cs[1].Added.Equal(added) || cs[1].Hash != digest(tok) {
		t.Fatalf("Clients: %+v, %v", cs, err)
	}
	if _, _, err := v.ReadState(ctx, legacyClientsState); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("the blob is still there: %v", err)
	}
	resp := e.do("POST", "/anthropic/v1/messages", `{}`, http.Header{"X-Api-Key": {tok}})
	if body := readBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("migrated token: status %d %s", resp.StatusCode, body)
	}

	// Removed, then the old blob put back: it is not read again.
	if err := RemoveClient(ctx, v, "old"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(states[0], oldCopy, 0o600); err != nil {
		t.Fatal(err)
	}
	resp = e.do("POST", "/anthropic/v1/messages", `{}`, http.Header{"X-Api-Key": {tok}})
	if readBody(t, resp); resp.StatusCode != 401 {
		t.Fatalf("removed token after the blob was put back: status %d", resp.StatusCode)
	}
	if cs, err := Clients(ctx, v); err != nil || len(cs) != 1 || cs[0].Name != "laptop" {
		t.Fatalf("Clients: %+v, %v", cs, err)
	}
	if _, err := os.Stat(states[0]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old blob put back is not removed: %v", err)
	}
}
