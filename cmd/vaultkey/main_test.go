package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/authvault/authvault/internal/vaulttest"
	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// The tests drive the vaultkey binary as a user would: arguments, standard
// input, environment, exit status and output. TestMain builds it once.
var vaultkeyBin string

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		dir, err := os.MkdirTemp("", "vaultkey-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		vaultkeyBin = filepath.Join(dir, "vaultkey")
		if runtime.GOOS == "windows" {
			vaultkeyBin += ".exe"
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			fmt.Fprintln(os.Stderr, "building vaultkey needs the go command on PATH:", err)
			return 1
		}
		build := exec.Command(goBin, "build", "-o", vaultkeyBin, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building vaultkey:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// keyringTestEnv makes "no usable keyring" a failure instead of a skip.
const keyringTestEnv = "AUTHVAULT_TEST_KEYRING"

// sandbox is one user's world: a home, config and data directory, a vault
// directory and a keyring service name of its own. Every output of every
// run is checked at the end for secrets that must not be there.
type sandbox struct {
	t       *testing.T
	root    string
	home    string
	config  string
	data    string
	dir     string // AUTHVAULT_DIR
	service string // AUTHVAULT_KEYRING_SERVICE
	bus     string // DBUS_SESSION_BUS_ADDRESS
	env     map[string]string

	mu      sync.Mutex
	secrets []string // API keys and identities that must never leak
	outputs []output
}

type output struct {
	args   string
	stream string
	text   string
	mayKey bool // the command's purpose is to print a key there
}

// result is what a run of vaultkey did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// newSandbox returns a sandbox without a reachable keyring: its session
// bus address points at nothing, so the keyring answers "unavailable" at
// once.
func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root := t.TempDir()
	var b [6]byte
	rand.Read(b[:])
	s := &sandbox{
		t:       t,
		root:    root,
		home:    filepath.Join(root, "home"),
		config:  filepath.Join(root, "config"),
		data:    filepath.Join(root, "data"),
		dir:     filepath.Join(root, "data", "authvault"),
		service: "authvault-test-" + hex.EncodeToString(b[:]),
		bus:     "unix:path=" + filepath.Join(root, "no-bus"),
		env:     map[string]string{},
	}
	for _, d := range []string{s.home, s.config, s.data} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.checkLeaks)
	return s
}

// newKeyringSandbox returns a sandbox that reaches the real Secret Service
// (the test's own session bus), or skips the test when there is none,
// unless AUTHVAULT_TEST_KEYRING=1 makes that a failure. Entries made under
// its service are deleted at the end.
func newKeyringSandbox(t *testing.T) *sandbox {
	t.Helper()
	s := newSandbox(t)
	probe := &keysource.Keyring{Service: s.service, Account: "probe", Timeout: 5 * time.Second}
	if _, err := probe.Has(context.Background()); err != nil {
		if os.Getenv(keyringTestEnv) == "1" {
			t.Fatalf("%s=1 but the system keyring is not usable: %v", keyringTestEnv, err)
		}
		t.Skipf("no usable system keyring (on Linux install gnome-keyring and dbus-x11 and run the tests as bash .ci/run does, under dbus-run-session with gnome-keyring-daemon unlocked; set %s=1 to make this a failure): %v", keyringTestEnv, err)
	}
	if runtime.GOOS == "linux" {
		if _, err := exec.LookPath("secret-tool"); err != nil {
			if os.Getenv(keyringTestEnv) == "1" {
				t.Fatalf("%s=1 but secret-tool is missing (apt-get install libsecret-tools)", keyringTestEnv)
			}
			t.Skip("secret-tool not installed (apt-get install libsecret-tools)")
		}
		t.Cleanup(func() {
			exec.Command("secret-tool", "clear", "service", s.service).Run()
		})
	}
	s.bus = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	return s
}

func (s *sandbox) environ() []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.home,
		"USERPROFILE=" + s.home,
		"XDG_CONFIG_HOME=" + s.config,
		"XDG_DATA_HOME=" + s.data,
		"AUTHVAULT_DIR=" + s.dir,
		"AUTHVAULT_KEYRING_SERVICE=" + s.service,
		"DBUS_SESSION_BUS_ADDRESS=" + s.bus,
		"TZ=UTC",
	}
	if runtime.GOOS == "windows" {
		env = append(env, "SYSTEMROOT="+os.Getenv("SYSTEMROOT"), "APPDATA="+filepath.Join(s.config), "LocalAppData="+s.data)
	}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return env
}

// addSecret registers a value that must appear in no stderr, and in no
// stdout except where a command's purpose is to print it.
func (s *sandbox) addSecret(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = append(s.secrets, v)
}

// runOpts tunes one run.
type runOpts struct {
	stdin        io.Reader
	env          map[string]string // on top of the sandbox's
	stdoutMayKey bool              // stdout may hold a key (init/rotate env, export to stdout)
}

// run runs vaultkey with args and fails the test if it does not exit
// with want.
func (s *sandbox) run(want int, args ...string) result {
	s.t.Helper()
	r := s.runWith(runOpts{}, args...)
	if r.code != want {
		s.t.Fatalf("vaultkey %s: want exit %d, got %s", strings.Join(args, " "), want, r)
	}
	return r
}

// runIn runs vaultkey with stdin and checks the exit status.
func (s *sandbox) runIn(stdin string, want int, args ...string) result {
	s.t.Helper()
	r := s.runWith(runOpts{stdin: strings.NewReader(stdin)}, args...)
	if r.code != want {
		s.t.Fatalf("vaultkey %s: want exit %d, got %s", strings.Join(args, " "), want, r)
	}
	return r
}

func (s *sandbox) runWith(o runOpts, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vaultkeyBin, args...)
	cmd.Env = s.environ()
	for k, v := range o.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = s.root
	cmd.Stdin = o.stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{code: s.exitCode(args, err), stdout: stdout.String(), stderr: stderr.String()}
	s.record(strings.Join(args, " "), r, o.stdoutMayKey)
	return r
}

// exitCode is the exit status of vaultkey args, which ended with err; an
// err other than an exit status fails the test.
func (s *sandbox) exitCode(args []string, err error) int {
	s.t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	s.t.Fatalf("running vaultkey %s: %v", strings.Join(args, " "), err)
	return 0
}

func (s *sandbox) record(args string, r result, stdoutMayKey bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outputs = append(s.outputs,
		output{args: args, stream: "stdout", text: r.stdout, mayKey: stdoutMayKey},
		output{args: args, stream: "stderr", text: r.stderr})
}

// identityPattern matches an age identity: its prefix and the start of its
// data (texts that merely name the formats, "AGE-SECRET-KEY-1…", do not).
var identityPattern = regexp.MustCompile(`(?i)AGE-(?:SECRET-KEY-(?:PQ-)?|PLUGIN-[a-z0-9+._-]+-)1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{4}`)

// checkLeaks is the canary: no stderr ever holds an identity or a
// registered secret, and no stdout does unless the command prints keys.
func (s *sandbox) checkLeaks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.outputs {
		if o.mayKey {
			continue
		}
		if identityPattern.MatchString(o.text) {
			s.t.Errorf("vaultkey %s: an identity appears on %s:\n%s", o.args, o.stream, o.text)
		}
		for _, sec := range s.secrets {
			if strings.Contains(o.text, sec) {
				s.t.Errorf("vaultkey %s: a secret appears on %s", o.args, o.stream)
			}
		}
	}
}

// keyFile is the sandbox's key file path.
func (s *sandbox) keyFile() string { return filepath.Join(s.config, "authvault", "key.txt") }

// identitiesFromFile reads the key file.
func (s *sandbox) identitiesFromFile() []age.Identity {
	s.t.Helper()
	data, err := os.ReadFile(s.keyFile())
	if err != nil {
		s.t.Fatal(err)
	}
	ids, err := keysource.ParseIdentities(data)
	if err != nil {
		s.t.Fatal(err)
	}
	return ids
}

// initFile creates the sandbox's vault with its key in the key file.
func (s *sandbox) initFile(extra ...string) {
	s.t.Helper()
	s.run(0, append([]string{"init", "--key-store", "file"}, extra...)...)
	data, err := os.ReadFile(s.keyFile())
	if err != nil {
		s.t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "AGE-") {
			s.addSecret(line)
		}
	}
}

// addKey adds an API-key account through vaultkey and registers the key
// as a secret.
func (s *sandbox) addKey(provider, label, key string, extra ...string) {
	s.t.Helper()
	s.addSecret(key)
	s.runIn(key+"\n", 0, append([]string{"accounts", "add-key", provider, "--label", label}, extra...)...)
}

// openVault opens dir (default: the sandbox's) with ids in this process.
func openVault(t *testing.T, dir string, ids []age.Identity) *vault.Vault {
	t.Helper()
	v, err := vault.Open(context.Background(), dir, ids)
	if err != nil {
		t.Fatalf("opening %s: %v", dir, err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// allRecords reads every record of v.
var allRecords = vaulttest.AllRecords

// ignoreGeneration compares records without the vault's own counter.
var ignoreGeneration = cmpopts.IgnoreFields(records.Record{}, "Generation")

// diffRecords compares two record sets, generations aside.
func diffRecords(want, got []*records.Record) string {
	return cmp.Diff(want, got, ignoreGeneration, cmpopts.EquateEmpty())
}

// snapshot returns every file under dir with its content, to check that
// nothing changed.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[rel] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// x25519 returns a new X25519 identity written to an identity file, and
// its recipient.
func x25519(t *testing.T, dir string) (path, recipient string, id *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "id-"+hex.EncodeToString([]byte(id.Recipient().String()[4:10]))+".txt")
	if err := os.WriteFile(path, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, id.Recipient().String(), id
}

// ageBinary returns the stock age command, or skips the test when it is
// missing (outside CI, where it must be there).
func ageBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("age")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but the age command is missing (apt-get install age)")
		}
		t.Skip("the age command is not installed (apt-get install age)")
	}
	return p
}
