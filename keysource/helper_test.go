package keysource

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
)

// The test binary re-executes itself as the key command and as a process
// with its own environment (the D-Bus tests): os.Args[0] with
// -test.run=^TestHelperProcess$, the helperEnv flag set, and the mode after
// "--".
const (
	helperEnv    = "AUTHVAULT_TEST_HELPER"
	helperKeyEnv = "AUTHVAULT_TEST_HELPER_KEY"
)

func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "helper: no mode")
		os.Exit(2)
	}
	mode, args := args[1], args[2:]
	switch mode {
	case "print-key":
		fmt.Println(os.Getenv(helperKeyEnv))
	case "fail":
		fmt.Fprintln(os.Stderr, "Error: authvault/key is not in the password store.")
		os.Exit(3)
	case "fail-leaking-key":
		// A broken command that shows the key on standard error.
		fmt.Fprintln(os.Stderr, "debug: read", os.Getenv(helperKeyEnv))
		os.Exit(1)
	case "hang":
		// A command that never answers: it waits on a pipe nothing
		// writes to, until it is killed.
		r, w, err := os.Pipe()
		if err != nil {
			os.Exit(2)
		}
		r.Read(make([]byte, 1))
		runtime.KeepAlive(w)
	case "garbage":
		fmt.Println("Welcome to the key service! Your key is below.")
	case "empty":
	case "huge":
		fmt.Print(strings.Repeat("#", maxKeyData+1))
	case "keyring-identities":
		// Ask the system keyring in this process's environment, and report
		// the error's type and text.
		k := &Keyring{Service: args[0], Account: "helper"}
		_, err := k.Identities(context.Background())
		fmt.Printf("%T\n%v\n", err, err)
	default:
		fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
		os.Exit(2)
	}
	os.Exit(0)
}

// helperCommand returns an AUTHVAULT_KEY_CMD line that runs the helper in
// mode, and sets the flag the helper needs.
func helperCommand(t *testing.T, mode string) string {
	t.Helper()
	t.Setenv(helperEnv, "1")
	t.Setenv("GORACE", helperGORACE())
	return "'" + os.Args[0] + "' -test.run=^TestHelperProcess$ -- " + mode
}

// helperGORACE spares a helper built with -race the race detector's
// one-second pause at a successful exit.
func helperGORACE() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}

// testKey is a generated identity with its encoding and recipient.
type testKey struct {
	kind      Kind
	id        age.Identity
	encoded   string
	recipient string
}

func newTestKey(t *testing.T, kind Kind) testKey {
	t.Helper()
	id, enc, rcpt, err := GenerateIdentity(kind)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kind, id, enc, rcpt}
}

// mapEnv is an injected environment.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// assertNoSecret fails the test if err, in any of its printed forms, shows
// one of the secrets, a piece of one, or anything that looks like a key.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, form := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		assertTextHasNoSecret(t, form, secrets...)
	}
}

func assertTextHasNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	if mayHoldKey(text) {
		t.Errorf("text looks like it holds a key: %q", text)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(text, s) {
			t.Errorf("text contains a secret: %q", text)
		}
		// A fragment of the key's data part.
		if i := strings.LastIndexByte(s, '1'); i >= 0 && len(s)-i > 20 {
			if frag := s[i+1 : i+17]; strings.Contains(text, frag) {
				t.Errorf("text contains a piece of a secret: %q", text)
			}
		}
	}
}

// recipientString returns the recipient of a native identity.
func recipientString(t *testing.T, id age.Identity) string {
	t.Helper()
	r := recipientOf(id)
	if r == "" {
		t.Fatalf("no recipient for %T", id)
	}
	return r
}
