package pool_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/authvault/authvault/internal/vaulttest"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
	"github.com/google/go-cmp/cmp"
)

// realVault is a vault on disk with API-key records for the given labels.
type realVault struct {
	dir string
	id  *age.X25519Identity
}

func newRealVault(t testing.TB, labels ...string) *realVault {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	rv := &realVault{dir: filepath.Join(t.TempDir(), "vault"), id: id}
	v, err := vault.Create(context.Background(), rv.dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, l := range labels {
		r := &records.Record{Provider: testKey.Provider, Namespace: testKey.Namespace, Label: l,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret("key-" + l)}}
		if _, err := v.Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return rv
}

// open opens another handle on the vault, as another process would.
func (rv *realVault) open(t testing.TB) *vault.Vault {
	t.Helper()
	v, err := vault.Open(context.Background(), rv.dir, []age.Identity{rv.id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func (rv *realVault) pool(t testing.TB, opts ...pool.Option) *pool.Pool {
	t.Helper()
	p, err := pool.Open(context.Background(), rv.open(t), testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

var allRecords = vaulttest.AllRecords

func TestRealVault(t *testing.T) {
	ctx := context.Background()
	rv := newRealVault(t, "a", "b")
	p1, p2 := rv.pool(t), rv.pool(t)
	l := acquire(t, p1, pool.Hint{})
	r, err := l.Record(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID() != acct("a") || r.API.Key.Reveal() != "key-a" {
		t.Errorf("lease record %s", r.ID())
	}
	report(t, p1, l, pool.Outcome{Kind: pool.RateLimited, Until: time.Now().Add(time.Hour)})
	if got := label(t, p2, pool.Hint{}); got != "b" {
		t.Errorf("the other pool got %s, want b", got)
	}
	if err := p2.Disable(ctx, acct("b"), "spare"); err != nil {
		t.Fatal(err)
	}
	_, err = p1.Acquire(ctx, pool.Hint{})
	var ex *pool.ExhaustedError
	if !errors.As(err, &ex) || ex.Reasons[pool.Cooling] != 1 || ex.Reasons[pool.Disabled] != 1 {
		t.Errorf("Acquire: %v, want exhausted (1 cooling, 1 disabled)", err)
	}
	for _, p := range []*pool.Pool{p1, p2} {
		if err := p.Health(); err != nil {
			t.Error(err)
		}
	}
}

// TestRealVaultBadStateBlob damages the sealed state file on disk: one
// flipped bit (fails authentication) or garbage (not an envelope at all).
func TestRealVaultBadStateBlob(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		want   error
		// rewrite: the vault lets the pool replace the blob. It does for
		// a blob that fails authentication; whether it overwrites one that
		// is not an envelope at all is the vault's call.
		rewrite bool
	}{
		{"flipped bit", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, vault.ErrTampered, true},
		{"swapped for another blob", nil, vault.ErrTampered, true},
		{"truncated", func(b []byte) []byte { return b[:10] }, records.ErrEnvelopeFormat, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rv := newRealVault(t, "a", "b", "c")
			p0 := rv.pool(t)
			report(t, p0, acquire(t, p0, pool.Hint{}), pool.Outcome{Kind: pool.QuotaExhausted})
			if err := p0.Move(ctx, acct("c"), 0); err != nil {
				t.Fatal(err)
			}
			if err := p0.Disable(ctx, acct("b"), "leaked key"); err != nil {
				t.Fatal(err)
			}
			if err := p0.Close(); err != nil {
				t.Fatal(err)
			}
			v := rv.open(t)
			before := allRecords(t, v)

			files, err := filepath.Glob(filepath.Join(rv.dir, "state", "*.avs"))
			if err != nil || len(files) != 1 {
				t.Fatalf("state files %v, %v", files, err)
			}
			// The sealed blob, out of the slot file it is written in; the
			// damaged one is put back as a plain file, which the
			// directory store also reads.
			b, err := vault.DirStore(rv.dir).Read("state/" + filepath.Base(files[0]))
			if err != nil {
				t.Fatal(err)
			}
			if tt.damage != nil {
				b = tt.damage(b)
			} else {
				// A valid blob of another state, moved under the pool's name.
				other := "other.state"
				if _, err := v.UpdateState(ctx, other, func([]byte) ([]byte, error) { return []byte(`{"v":1,"order":[],"accounts":{}}`), nil }); err != nil {
					t.Fatal(err)
				}
				all, _ := filepath.Glob(filepath.Join(rv.dir, "state", "*.avs"))
				for _, f := range all {
					if f != files[0] {
						if b, err = vault.DirStore(rv.dir).Read("state/" + filepath.Base(f)); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			if err := os.WriteFile(files[0], b, 0o600); err != nil {
				t.Fatal(err)
			}

			var reported []error
			p := rv.pool(t, pool.WithStateErrorHandler(func(err error) { reported = append(reported, err) }))
			if err := p.Health(); !errors.Is(err, tt.want) {
				t.Errorf("Health() = %v, want %v", err, tt.want)
			}
			if len(reported) == 0 || !errors.Is(reported[0], tt.want) || tt.rewrite && len(reported) != 1 {
				t.Errorf("handler got %v", reported)
			}
			// The cooldown is forgotten; the operator's order and disabled
			// account, kept in the records, hold.
			want := []view{{"c", pool.Ready, ""}, {"a", pool.Ready, ""}, {"b", pool.Disabled, "leaked key"}}
			if diff := cmp.Diff(want, views(t, p)); diff != "" {
				t.Errorf("not a clean state (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, allRecords(t, v)); diff != "" {
				t.Errorf("records changed (-before +after):\n%s", diff)
			}
			if _, err := v.Verify(ctx); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if !tt.rewrite {
				return
			}
			// The clean state the pool wrote reads back.
			if err := rv.pool(t).Health(); err != nil {
				t.Errorf("a pool opened after the rewrite: %v", err)
			}
		})
	}
}

// The two-process test re-executes the test binary as a helper that
// drives a pool on the same vault through commands on stdin.
const helperEnv = "AUTHVAULT_POOL_HELPER"

func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process only")
	}
	if err := runHelper(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelper(in io.Reader, out io.Writer) error {
	ctx := context.Background()
	id, err := age.ParseX25519Identity(os.Getenv("AUTHVAULT_POOL_KEY"))
	if err != nil {
		return err
	}
	v, err := vault.Open(ctx, os.Getenv("AUTHVAULT_POOL_DIR"), []age.Identity{id})
	if err != nil {
		return err
	}
	defer v.Close()
	return vaulttest.DrivePool(ctx, v, testKey, in, out)
}

// TestTwoProcesses: a 429 reported in one process makes the other skip
// that account on its very next Acquire, both ways, with no restart.
func TestTwoProcesses(t *testing.T) {
	rv := newRealVault(t, "a", "b", "c")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "AUTHVAULT_POOL_DIR="+rv.dir, "AUTHVAULT_POOL_KEY="+rv.id.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	child := func(command string) string {
		t.Helper()
		if _, err := fmt.Fprintln(stdin, command); err != nil {
			t.Fatalf("to helper: %v (stderr: %s)", err, stderr.String())
		}
		if !lines.Scan() {
			t.Fatalf("helper gave no answer to %q: %v (stderr: %s)", command, lines.Err(), stderr.String())
		}
		return lines.Text()
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper: %v (stderr: %s)", err, stderr.String())
		}
	}()

	p := rv.pool(t, pool.WithRelistInterval(0))
	if got := child("acquire"); got != "a" {
		t.Fatalf("helper's first account %q, want a", got)
	}
	l := acquire(t, p, pool.Hint{})
	if l.ID.Label != "a" {
		t.Fatalf("first account %s, want a", l.ID.Label)
	}
	report(t, p, l, pool.Outcome{Kind: pool.RateLimited, Until: time.Now().Add(time.Hour)})
	if got := child("acquire"); got != "b" {
		t.Errorf("helper after this process's 429 on a: %q, want b", got)
	}
	if got := child("ratelimit"); got != "ok" {
		t.Fatalf("helper: %q", got)
	}
	if got := label(t, p, pool.Hint{}); got != "c" {
		t.Errorf("after the helper's 429 on b: %s, want c", got)
	}
	if got := child("quit"); got != "bye" {
		t.Errorf("helper: %q", got)
	}
}
