package keysource

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// memKeyring is an in-memory keyringBackend with go-keyring's semantics.
type memKeyring struct {
	mu      sync.Mutex
	entries map[[2]string]string
}

func (m *memKeyring) Get(service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.entries[[2]string{service, user}]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return s, nil
}

func (m *memKeyring) Set(service, user, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[[2]string]string{}
	}
	m.entries[[2]string{service, user}] = secret
	return nil
}

func (m *memKeyring) Delete(service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.entries[[2]string{service, user}]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.entries, [2]string{service, user})
	return nil
}

// stuckKeyring never answers until released, like a locked keyring waiting
// for a user.
type stuckKeyring struct{ release chan struct{} }

func (s stuckKeyring) Get(string, string) (string, error) { <-s.release; return "", errors.New("late") }
func (s stuckKeyring) Set(string, string, string) error   { <-s.release; return errors.New("late") }
func (s stuckKeyring) Delete(string, string) error        { <-s.release; return errors.New("late") }

func newStuckKeyring(t *testing.T) stuckKeyring {
	s := stuckKeyring{release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

// failingKeyring fails every call with err.
type failingKeyring struct{ err error }

func (f failingKeyring) Get(string, string) (string, error) { return "", f.err }
func (f failingKeyring) Set(string, string, string) error   { return f.err }
func (f failingKeyring) Delete(string, string) error        { return f.err }

// exerciseStore runs the Store contract against s, which must start empty.
func exerciseStore(t *testing.T, s Store, k testKey) {
	t.Helper()
	ctx := context.Background()
	var nf *NotFoundError

	if _, err := s.Identities(ctx); !errors.As(err, &nf) {
		t.Fatalf("Identities on an empty store: %v, want *NotFoundError", err)
	}
	if has, err := s.Has(ctx); err != nil || has {
		t.Fatalf("Has on an empty store = %v, %v", has, err)
	}
	if err := s.Store(ctx, k.encoded); err != nil {
		t.Fatal(err)
	}
	if has, err := s.Has(ctx); err != nil || !has {
		t.Fatalf("Has after Store = %v, %v", has, err)
	}
	ids, err := s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, k.recipient, ids)

	other := newTestKey(t, X25519)
	err = s.Store(ctx, other.encoded)
	if !errors.Is(err, ErrKeyExists) {
		t.Fatalf("Store over a key: %v, want ErrKeyExists", err)
	}
	assertNoSecret(t, err, k.encoded, other.encoded)
	ids, err = s.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, k.recipient, ids)

	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Identities(ctx); !errors.As(err, &nf) {
		t.Fatalf("Identities after Delete: %v, want *NotFoundError", err)
	}
	if err := s.Delete(ctx); !errors.As(err, &nf) {
		t.Fatalf("Delete twice: %v, want *NotFoundError", err)
	}
}

func TestKeyringWithMemoryBackend(t *testing.T) {
	for _, kind := range []Kind{PostQuantum, X25519} {
		t.Run(kind.String(), func(t *testing.T) {
			mem := &memKeyring{}
			k := &Keyring{Account: "vault-1", backend: mem}
			exerciseStore(t, k, newTestKey(t, kind))

			// One entry per vault: another account is another key.
			a := newTestKey(t, kind)
			if err := k.Store(context.Background(), a.encoded); err != nil {
				t.Fatal(err)
			}
			k2 := &Keyring{Account: "vault-2", backend: mem}
			var nf *NotFoundError
			if _, err := k2.Identities(context.Background()); !errors.As(err, &nf) {
				t.Fatalf("other vault: %v, want *NotFoundError", err)
			}
			if want := `keyring (service "authvault", account "vault-2"): no entry`; nf.Reason != want {
				t.Errorf("Reason = %q, want %q", nf.Reason, want)
			}
		})
	}
}

func TestKeyringErrors(t *testing.T) {
	x := newTestKey(t, X25519)
	ctx := context.Background()

	t.Run("garbage entry", func(t *testing.T) {
		mem := &memKeyring{}
		mem.Set(DefaultKeyringService, "v", "not a key, but "+corrupt(x.encoded))
		_, err := (&Keyring{Account: "v", backend: mem}).Identities(ctx)
		if err == nil || absent(err) {
			t.Fatalf("error %v: want a hard error", err)
		}
		want := `keyring (service "authvault", account "v"): line 1: unknown identity type`
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q, want prefix %q", err, want)
		}
		assertNoSecret(t, err, x.encoded, corrupt(x.encoded))
	})

	t.Run("invalid key not stored", func(t *testing.T) {
		mem := &memKeyring{}
		err := (&Keyring{Account: "v", backend: mem}).Store(ctx, corrupt(x.encoded))
		var pe *parseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v, want *parseError", err)
		}
		assertNoSecret(t, err, corrupt(x.encoded))
		if len(mem.entries) != 0 {
			t.Error("an invalid key was stored")
		}
	})

	t.Run("no account", func(t *testing.T) {
		_, err := (&Keyring{backend: &memKeyring{}}).Identities(ctx)
		if err == nil || !strings.Contains(err.Error(), "no account name") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("unsupported platform", func(t *testing.T) {
		_, err := (&Keyring{Account: "v", backend: failingKeyring{keyring.ErrUnsupportedPlatform}}).Identities(ctx)
		var ua *UnavailableError
		if !errors.As(err, &ua) || !strings.Contains(err.Error(), `keyring (service "authvault", account "v"): not supported on`) {
			t.Errorf("error %v (%T), want *UnavailableError", err, err)
		}
	})

	t.Run("backend error quoting the key on Store", func(t *testing.T) {
		k := &Keyring{Account: "v", backend: &leakyKeyring{}}
		err := k.Store(ctx, x.encoded)
		if err == nil {
			t.Fatal("no error")
		}
		assertNoSecret(t, err, x.encoded)
	})

	t.Run("timeout", func(t *testing.T) {
		k := &Keyring{Account: "v", Timeout: time.Nanosecond, backend: newStuckKeyring(t)}
		for name, call := range map[string]func() error{
			"Identities": func() error { _, err := k.Identities(ctx); return err },
			"Has":        func() error { _, err := k.Has(ctx); return err },
			"Delete":     func() error { return k.Delete(ctx) },
			"Store":      func() error { return k.Store(ctx, x.encoded) },
		} {
			err := call()
			var ua *UnavailableError
			if !errors.As(err, &ua) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %v (%T), want *UnavailableError wrapping DeadlineExceeded", name, err, err)
			}
			if err != nil && !strings.Contains(err.Error(), `keyring (service "authvault", account "v"): no answer within 1ns`) {
				t.Errorf("%s: %q", name, err)
			}
		}
	})

	t.Run("context ends first", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		k := &Keyring{Account: "v", Timeout: time.Hour, backend: &cancellingKeyring{stuck: newStuckKeyring(t), cancel: cancel}}
		_, err := k.Identities(ctx)
		if !errors.Is(err, context.Canceled) || absent(err) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	})
}

// leakyKeyring fails Set with an error that quotes the secret.
type leakyKeyring struct{ memKeyring }

func (l *leakyKeyring) Set(service, user, secret string) error {
	return fmt.Errorf("security: item %q rejected", secret)
}

// cancellingKeyring ends the context, then hangs.
type cancellingKeyring struct {
	stuck  stuckKeyring
	cancel func()
}

func (c *cancellingKeyring) Get(s, u string) (string, error) { c.cancel(); return c.stuck.Get(s, u) }
func (c *cancellingKeyring) Set(s, u, p string) error        { c.cancel(); return c.stuck.Set(s, u, p) }
func (c *cancellingKeyring) Delete(s, u string) error        { c.cancel(); return c.stuck.Delete(s, u) }

// The tests below talk to the real Secret Service on the session bus. They
// skip when there is none, unless AUTHVAULT_TEST_KEYRING=1, where they fail:
// CI sets it so that a broken keyring setup cannot pass silently. TESTING.md
// has the recipe.

const keyringTestEnv = "AUTHVAULT_TEST_KEYRING"

func keyringRequired() bool { return os.Getenv(keyringTestEnv) == "1" }

// uniqueService returns a keyring service name no other test run uses.
func uniqueService(t *testing.T) string {
	var b [6]byte
	rand.Read(b[:])
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return fmt.Sprintf("authvault-test-%s-%d-%s", name, os.Getpid(), hex.EncodeToString(b[:]))
}

// systemKeyringOrSkip returns a Keyring on the real system keyring with a
// unique service name, whose entry is removed when the test ends.
func systemKeyringOrSkip(t *testing.T) *Keyring {
	t.Helper()
	k := &Keyring{Service: uniqueService(t), Account: "vault-test"}
	if _, err := k.Has(context.Background()); err != nil {
		if keyringRequired() {
			t.Fatalf("%s=1 but the system keyring is not usable: %v", keyringTestEnv, err)
		}
		t.Skipf("no usable system keyring (on Linux install gnome-keyring and dbus-x11 and run the tests as bash .ci/run does, under dbus-run-session with gnome-keyring-daemon unlocked; set %s=1 to make this a failure): %v", keyringTestEnv, err)
	}
	t.Cleanup(func() { keyring.Delete(k.Service, k.Account) })
	return k
}

func TestKeyringSystem(t *testing.T) {
	for _, kind := range []Kind{PostQuantum, X25519} {
		t.Run(kind.String(), func(t *testing.T) {
			k := systemKeyringOrSkip(t)
			exerciseStore(t, k, newTestKey(t, kind))
		})
	}
}

// TestKeyringSecretTool checks with libsecret's own client that Store really
// creates the Secret Service item, under the attributes go-keyring uses.
func TestKeyringSecretTool(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("secret-tool is the Linux Secret Service client")
	}
	k := systemKeyringOrSkip(t)
	if _, err := exec.LookPath("secret-tool"); err != nil {
		if keyringRequired() {
			t.Fatalf("%s=1 but secret-tool is missing (apt-get install libsecret-tools)", keyringTestEnv)
		}
		t.Skip("secret-tool not installed (apt-get install libsecret-tools)")
	}
	lookup := func() (string, error) {
		out, err := exec.Command("secret-tool", "lookup", "service", k.Service, "username", k.Account).Output()
		return string(out), err
	}
	ctx := context.Background()
	key := newTestKey(t, PostQuantum)

	if out, err := lookup(); err == nil || out != "" {
		t.Fatalf("entry exists before Store: %v", err)
	}
	if err := k.Store(ctx, key.encoded); err != nil {
		t.Fatal(err)
	}
	out, err := lookup()
	if err != nil {
		t.Fatalf("secret-tool lookup after Store: %v", err)
	}
	if strings.TrimSpace(out) != key.encoded {
		t.Fatal("secret-tool finds a different secret than the one stored")
	}

	// An entry made by another client is read back.
	if err := k.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := lookup(); err == nil || out != "" {
		t.Fatal("entry still exists after Delete")
	}
	store := exec.Command("secret-tool", "store", "--label=authvault test", "service", k.Service, "username", k.Account)
	store.Stdin = strings.NewReader(key.encoded)
	if out, err := store.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v: %s", err, out)
	}
	ids, err := k.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, key.recipient, ids)
}

// TestKeyringNoSecretService runs the keyring source in processes whose
// session bus is missing, dead, or has no Secret Service on it, and checks
// that each says so plainly and promptly.
func TestKeyringNoSecretService(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus session bus behaviour is Linux's")
	}
	runtimeDir := fmt.Sprintf("/run/user/%d", os.Getuid())
	_, err := os.Stat(filepath.Join(runtimeDir, "bus"))
	hasRunUserBus := err == nil

	tests := []struct {
		name    string
		address func(t *testing.T) string
	}{
		{name: "no session bus", address: func(t *testing.T) string {
			if hasRunUserBus {
				t.Skipf("%s/bus exists", runtimeDir)
			}
			return ""
		}},
		{name: "dead session bus", address: func(t *testing.T) string {
			return "unix:path=" + filepath.Join(t.TempDir(), "no-such-socket")
		}},
		{name: "session bus without a Secret Service", address: startBareBus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.address(t)
			service := uniqueService(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "--", "keyring-identities", service)
			cmd.Env = append(os.Environ(), helperEnv+"=1", "GORACE="+helperGORACE(), "DBUS_SESSION_BUS_ADDRESS="+addr)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("helper: %v: %s", err, out)
			}
			if elapsed := time.Since(start); elapsed > DefaultKeyringTimeout {
				t.Errorf("took %v: the keyring timed out instead of failing fast", elapsed)
			}
			typ, msg, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
			if typ != "*keysource.UnavailableError" {
				t.Errorf("error type %s (%s), want *keysource.UnavailableError", typ, msg)
			}
			want := `keyring (service "` + service + `", account "helper"): no Secret Service on the session bus (on a headless machine, set AUTHVAULT_KEY instead)`
			if msg != want {
				t.Errorf("message:\n got %s\nwant %s", msg, want)
			}
		})
	}
}

// startBareBus starts a private D-Bus daemon with no activatable services,
// so no Secret Service, and returns its address.
func startBareBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if keyringRequired() {
			t.Fatalf("%s=1 but dbus-daemon is missing (apt-get install dbus)", keyringTestEnv)
		}
		t.Skip("dbus-daemon not installed (apt-get install dbus)")
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "bus.conf")
	err := os.WriteFile(config, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+config, "--nofork", "--print-address")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer // its warnings are noise unless it fails
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// The address is printed once the daemon listens.
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("dbus-daemon: %v: %s", err, stderr.String())
	}
	return strings.TrimSpace(addr)
}

func TestKeyringPendingEntry(t *testing.T) {
	ctx := context.Background()
	mem := &memKeyring{}
	main := &Keyring{Account: "vault-1", backend: mem, Pending: true}
	next := &Keyring{Account: "vault-1" + PendingSuffix, backend: mem}
	var nf *NotFoundError
	if _, err := main.Identities(ctx); !errors.As(err, &nf) {
		t.Fatalf("no entries: %v, want *NotFoundError", err)
	}
	// Mid-rotation: only the pending entry exists.
	k := newTestKey(t, X25519)
	if err := next.Store(ctx, k.encoded); err != nil {
		t.Fatal(err)
	}
	ids, err := main.Identities(ctx)
	if err != nil || len(ids) != 1 {
		t.Fatalf("pending entry not read: %v %v", ids, err)
	}
	// Without Pending the rotation entry is not consulted.
	if _, err := (&Keyring{Account: "vault-1", backend: mem}).Identities(ctx); !errors.As(err, &nf) {
		t.Fatalf("Pending unset: %v", err)
	}
	// The main entry wins when both exist.
	k2 := newTestKey(t, X25519)
	if err := (&Keyring{Account: "vault-1", backend: mem}).Store(ctx, k2.encoded); err != nil {
		t.Fatal(err)
	}
	ids, err = main.Identities(ctx)
	if err != nil || ids[0].(interface{ String() string }).String() != k2.encoded {
		t.Fatalf("main entry not preferred: %v", err)
	}
}
