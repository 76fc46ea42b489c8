package keysource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
)

// fakeSource returns fixed results and counts its calls.
type fakeSource struct {
	name  string
	ids   []age.Identity
	err   error
	calls int
}

func (s *fakeSource) Name() string { return s.name }

func (s *fakeSource) Identities(context.Context) ([]age.Identity, error) {
	s.calls++
	return s.ids, s.err
}

func TestChainResolve(t *testing.T) {
	k1 := newTestKey(t, PostQuantum)
	k2 := newTestKey(t, X25519)
	found := func(name string, k testKey) *fakeSource {
		return &fakeSource{name: name, ids: []age.Identity{k.id}}
	}
	notFound := func(name string) *fakeSource {
		return &fakeSource{name: name, err: &NotFoundError{Source: name, Reason: name + ": not found"}}
	}
	unavailable := func(name string) *fakeSource {
		return &fakeSource{name: name, err: &UnavailableError{Source: name, Reason: name + ": unreachable"}}
	}
	broken := func(name string) *fakeSource {
		return &fakeSource{name: name, err: fmt.Errorf("%s: %w", name, ErrIncorrectPassphrase)}
	}

	tests := []struct {
		name      string
		sources   []*fakeSource
		wantFrom  string
		wantCalls []int
		wantErr   string
		absent    bool
	}{
		{
			name:      "first success wins",
			sources:   []*fakeSource{found("a", k1), found("b", k2)},
			wantFrom:  "a",
			wantCalls: []int{1, 0},
		},
		{
			name:      "absent sources are passed over",
			sources:   []*fakeSource{notFound("a"), unavailable("b"), found("c", k2), found("d", k1)},
			wantFrom:  "c",
			wantCalls: []int{1, 1, 1, 0},
		},
		{
			name:      "a source that succeeds with nothing does not count",
			sources:   []*fakeSource{{name: "a"}, found("b", k2)},
			wantCalls: []int{1, 0},
			wantErr:   "no vault key: a: no identities",
		},
		{
			name:      "an unusable key ends the search",
			sources:   []*fakeSource{notFound("a"), broken("b"), found("c", k1)},
			wantCalls: []int{1, 1, 0},
			wantErr:   "no vault key: a: not found; b: incorrect passphrase",
		},
		{
			name:      "all absent",
			sources:   []*fakeSource{notFound("a"), unavailable("b"), notFound("c")},
			wantCalls: []int{1, 1, 1},
			wantErr:   "no vault key: a: not found; b: unreachable; c: not found",
			absent:    true,
		},
		{
			name:    "no sources",
			wantErr: "no vault key: no key sources configured",
			absent:  true,
		},
		{
			name:      "a source leaking a key in its error is muted",
			sources:   []*fakeSource{{name: "leaky", err: &NotFoundError{Reason: "leaky: bad key " + k1.encoded}}},
			wantCalls: []int{1},
			wantErr:   "no vault key: leaky: failed (error withheld: it may contain key material)",
			absent:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Chain{}
			for _, s := range tt.sources {
				c.Sources = append(c.Sources, s)
			}
			ids, from, err := c.Resolve(context.Background())
			var calls []int
			for _, s := range tt.sources {
				calls = append(calls, s.calls)
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls per source (-want +got):\n%s", diff)
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("resolved from %s, want error", from.Name())
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
				}
				var nk *NoKeyError
				if !errors.As(err, &nk) {
					t.Fatalf("error is %T, want *NoKeyError", err)
				}
				if nk.Absent() != tt.absent {
					t.Errorf("Absent() = %v, want %v", nk.Absent(), tt.absent)
				}
				if ids != nil || from != nil {
					t.Errorf("error with results")
				}
				assertNoSecret(t, err, k1.encoded, k2.encoded)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from.Name() != tt.wantFrom {
				t.Errorf("resolved from %q, want %q", from.Name(), tt.wantFrom)
			}
			if len(ids) != 1 {
				t.Errorf("got %d identities", len(ids))
			}
		})
	}
}

func TestChainUnwrap(t *testing.T) {
	c := &Chain{Sources: []Source{
		&fakeSource{name: "a", err: &NotFoundError{Reason: "a: not found"}},
		&fakeSource{name: "b", err: &commandError{Program: "pass", Err: context.DeadlineExceeded}},
	}}
	_, _, err := c.Resolve(context.Background())
	var ce *commandError
	if !errors.As(err, &ce) || ce.Program != "pass" {
		t.Errorf("errors.As(*commandError) failed on %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(DeadlineExceeded) failed on %v", err)
	}
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("errors.As(*NotFoundError) failed on %v", err)
	}
}

func TestChainStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	first := &fakeSource{name: "a", err: &NotFoundError{Reason: "a: not found"}}
	cancelling := &cancelSource{cancel: cancel}
	last := &fakeSource{name: "c", err: &NotFoundError{Reason: "c: not found"}}
	_, _, err := (&Chain{Sources: []Source{first, cancelling, last}}).Resolve(ctx)
	if err == nil {
		t.Fatal("no error")
	}
	if last.calls != 0 {
		t.Error("a source was consulted after the context ended")
	}
}

// cancelSource ends the context, then reports its key unreachable.
type cancelSource struct{ cancel func() }

func (s *cancelSource) Name() string { return "b" }

func (s *cancelSource) Identities(ctx context.Context) ([]age.Identity, error) {
	s.cancel()
	return nil, &UnavailableError{Source: "b", Reason: "b: interrupted", Err: ctx.Err()}
}

func TestDefault(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	t.Setenv("AppData", cfg)
	x := newTestKey(t, X25519)
	getenv := mapEnv(map[string]string{EnvKey: x.encoded})

	c := Default("vault-1", getenv)
	var names []string
	for _, s := range c.Sources {
		names = append(names, fmt.Sprintf("%T", s))
	}
	if diff := cmp.Diff([]string{"*keysource.Env", "*keysource.Keyring", "*keysource.File"}, names); diff != "" {
		t.Fatalf("Default sources (-want +got):\n%s", diff)
	}
	if k := c.Sources[1].(*Keyring); k.Account != "vault-1" || k.service() != DefaultKeyringService {
		t.Errorf("keyring entry: service %q account %q", k.service(), k.Account)
	}
	wantPath, err := DefaultFilePath()
	if err != nil {
		t.Fatal(err)
	}
	if f := c.Sources[2].(*File); f.Path != wantPath {
		t.Errorf("file path %q, want %q", f.Path, wantPath)
	}

	ids, from, err := c.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if from.Name() != "env" {
		t.Errorf("resolved from %s", from.Name())
	}
	roundTrip(t, x.recipient, ids)
}

// TestDefaultNoKeyMessage runs the default chain on a headless Linux machine
// with nothing configured, and checks the whole message a user sees.
func TestDefaultNoKeyMessage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service message is Linux's")
	}
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this machine has a session bus socket in /run/user")
	}
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")

	_, _, err := Default("vault-1", mapEnv(nil)).Resolve(context.Background())
	want := "no vault key: AUTHVAULT_KEY not set; " +
		`keyring (service "authvault", account "vault-1"): no Secret Service on the session bus (on a headless machine, set AUTHVAULT_KEY instead); ` +
		"file " + filepath.Join(cfg, "authvault", "key.txt") + ": not found"
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
	var nk *NoKeyError
	if !errors.As(err, &nk) || !nk.Absent() || len(nk.attempts) != 3 {
		t.Errorf("want a *NoKeyError with three absent attempts, got %#v", err)
	}
	var ua *UnavailableError
	if !errors.As(err, &ua) || ua.Source != "keyring" {
		t.Errorf("no keyring *UnavailableError in %v", err)
	}
	if !strings.Contains(err.Error(), EnvKey) {
		t.Error("the message does not point at AUTHVAULT_KEY")
	}
}

// TestNoKeyMaterialInOutput drives every source into failure with key
// material close at hand, and checks that neither the errors nor anything
// written to standard error show it.
func TestNoKeyMaterialInOutput(t *testing.T) {
	k := newTestKey(t, PostQuantum)
	bad := corrupt(k.encoded)
	const pass, wrongPass = "the right passphrase", "the wrong passphrase"
	secrets := []string{k.encoded, bad, pass, wrongPass}
	t.Setenv(helperKeyEnv, k.encoded)
	dir := t.TempDir()

	encrypted := filepath.Join(dir, "encrypted.txt")
	writeFile(t, encrypted, scryptFile(t, k.encoded+"\n", pass, true), 0o600)
	loose := filepath.Join(dir, "loose.txt")
	writeFile(t, loose, []byte(k.encoded+"\n"), 0o644)
	mem := &memKeyring{}
	mem.Set(DefaultKeyringService, "v", "key: "+k.encoded)
	wrongPrompt := func(string) ([]byte, error) { return []byte(wrongPass), nil }

	sources := []Source{
		&Env{Getenv: mapEnv(map[string]string{EnvKey: bad})},
		&Env{Getenv: mapEnv(map[string]string{EnvKey: "export AUTHVAULT_KEY=" + k.encoded})},
		&Env{Getenv: mapEnv(map[string]string{EnvKey: k.encoded, EnvKeyCommand: "cat " + loose})},
		&Env{Getenv: mapEnv(map[string]string{EnvKeyCommand: helperCommand(t, "fail-leaking-key")})},
		&Env{Getenv: mapEnv(map[string]string{EnvKeyFile: encrypted, EnvPassphrase: wrongPass})},
		&Keyring{Account: "v", backend: mem},
		&File{Path: encrypted, Getenv: mapEnv(nil), Prompt: wrongPrompt},
	}
	if runtime.GOOS != "windows" {
		sources = append(sources,
			&File{Path: loose},
			&Env{Getenv: mapEnv(map[string]string{EnvKeyFile: loose})})
	}

	stderr := captureStderr(t)
	var errs []error
	for _, s := range sources {
		_, _, err := (&Chain{Sources: []Source{s}}).Resolve(context.Background())
		if err == nil {
			t.Errorf("%s: no error", s.Name())
		}
		errs = append(errs, err)
	}
	output := stderr()

	for _, err := range errs {
		assertNoSecret(t, err, secrets...)
		t.Log(err)
	}
	assertTextHasNoSecret(t, output, secrets...)
}

// captureStderr redirects os.Stderr until the returned function is called,
// which returns what was written.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		io.Copy(&out, r)
		close(done)
	}()
	restore := func() string {
		if os.Stderr == w {
			os.Stderr = saved
			w.Close()
			<-done
			r.Close()
		}
		return out.String()
	}
	t.Cleanup(func() { restore() })
	return restore
}
