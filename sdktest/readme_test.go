package sdktest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// goBlocks returns the Go code blocks of a Markdown file, in order.
func goBlocks(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &strings.Builder{}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s: a ```go block is not closed", path)
	}
	return blocks
}

// redirectFile is added to every README program: it sends the requests
// meant for the providers' API hosts to the fake upstream named by
// README_TEST_UPSTREAM (keeping the Host header), and refuses any other
// host, so the program runs as written and stays on loopback.
const redirectFile = `package main

import (
	"errors"
	"net/http"
	"net/url"
	"os"
)

func init() {
	up, err := url.Parse(os.Getenv("README_TEST_UPSTREAM"))
	if err != nil || up.Host == "" {
		panic("README_TEST_UPSTREAM is not a URL")
	}
	http.DefaultTransport = redirect{up: up, base: http.DefaultTransport.(*http.Transport).Clone()}
}

type redirect struct {
	up   *url.URL
	base http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Host {
	case "api.anthropic.com", "api.openai.com":
	default:
		return nil, errors.New("README test: request to unexpected host " + req.URL.Host)
	}
	out := req.Clone(req.Context())
	out.Host = req.URL.Host
	out.URL.Scheme, out.URL.Host = r.up.Scheme, r.up.Host
	return r.base.RoundTrip(out)
}
`

// fakeProviders answers as Anthropic's Messages API and OpenAI's Chat
// Completions API do. The first account of each provider is rate limited,
// with the provider's documented 429.
type fakeProviders struct {
	mu   sync.Mutex
	seen []string // host and credential of each request
}

func (f *fakeProviders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Host == "api.anthropic.com" && r.URL.Path == "/v1/messages":
		key := r.Header.Get("X-Api-Key")
		f.note(r.Host + " " + key + r.Header.Get("Authorization"))
		if key == "sk-ant-first" {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(429)
			io.WriteString(w, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit."}}`)
			return
		}
		io.WriteString(w, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello from `+key+`"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":4}}`)
	case r.Host == "api.openai.com" && r.URL.Path == "/v1/chat/completions":
		auth := r.Header.Get("Authorization")
		f.note(r.Host + " " + auth)
		if auth == "Bearer sk-first" {
			w.Header().Set("X-Ratelimit-Reset-Requests", "6m0s")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
			return
		}
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from `+strings.TrimPrefix(auth, "Bearer ")+`"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":1,"completion_tokens":4,"total_tokens":5}}`)
	default:
		f.note(r.Host + " unexpected " + r.URL.Path)
		w.WriteHeader(404)
	}
}

func (f *fakeProviders) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, s)
}

func (f *fakeProviders) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.seen
	f.seen = nil
	return s
}

// TestREADMEGoBlocks compiles every Go block of the README as a program of
// its own and runs it as a user would after "vaultkey init" and two
// "vaultkey accounts add-key": a vault found through AUTHVAULT_DIR and
// AUTHVAULT_KEY, no provider key variables, requests answered by a fake
// upstream.
func TestREADMEGoBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: install Go to build the README programs")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(t, filepath.Join(root, "README.md"))
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go blocks")
	}

	// A module of its own beside nothing: sdktest's requirements, the
	// library from this checkout.
	mod := t.TempDir()
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	gomod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(gomod, []byte("module readmetest"))
	gomod = regexp.MustCompile(`(?m)^replace github.com/authvault/authvault => .*$`).ReplaceAll(gomod,
		[]byte("replace github.com/authvault/authvault => "+root))
	gosum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(mod, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", gomod)
	write("go.sum", gosum)
	for i, b := range blocks {
		if !strings.HasPrefix(b, "package main\n") {
			t.Fatalf("README Go block %d is not a whole program (package main): a reader cannot run it as written:\n%s", i+1, b)
		}
		write(fmt.Sprintf("block%d/main.go", i+1), []byte(b))
		write(fmt.Sprintf("block%d/zz_redirect.go", i+1), []byte(redirectFile))
	}
	bin := filepath.Join(mod, "bin")
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	if raceEnabled {
		args = append(args, "-race") // the test's own build cache
	}
	build := exec.Command(goBin, append(args, "./...")...)
	build.Dir = mod
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the README's Go blocks: %v\n%s", err, out)
	}

	// The vault an operator would have made.
	ctx := context.Background()
	home := t.TempDir()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, "vault")
	v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ provider, label, key string }{
		{"anthropic", "first", "sk-ant-first"}, {"anthropic", "second", "sk-ant-second"},
		{"openai", "first", "sk-first"}, {"openai", "second", "sk-second"},
	} {
		if _, err := v.Put(ctx, &records.Record{Provider: a.provider, Namespace: "default", Label: a.label,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(a.key)}}); err != nil {
			t.Fatal(err)
		}
	}
	v.Close()

	fake := &fakeProviders{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	env := []string{
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "PATH=" + os.Getenv("PATH"),
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(home, "no-bus"),
		"AUTHVAULT_DIR=" + dir, "AUTHVAULT_KEY=" + id.String(),
		"README_TEST_UPSTREAM=" + srv.URL,
	}
	want := map[string]struct {
		out  string
		seen string
	}{
		"anthropic-sdk-go": {"Hello from sk-ant-second", "[api.anthropic.com sk-ant-first api.anthropic.com sk-ant-second]"},
		"openai-go":        {"Hello from sk-second", "[api.openai.com Bearer sk-first api.openai.com Bearer sk-second]"},
	}
	ran := map[string]bool{}
	for i, b := range blocks {
		sdk := ""
		switch {
		case strings.Contains(b, "github.com/anthropics/anthropic-sdk-go"):
			sdk = "anthropic-sdk-go"
		case strings.Contains(b, "github.com/openai/openai-go"):
			sdk = "openai-go"
		default:
			t.Fatalf("README Go block %d uses neither SDK this test knows how to answer:\n%s", i+1, b)
		}
		ran[sdk] = true
		t.Run(fmt.Sprintf("block%d-%s", i+1, sdk), func(t *testing.T) {
			cmd := exec.Command(filepath.Join(bin, fmt.Sprintf("block%d", i+1)))
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("README Go block %d: %v\nstdout:\n%s\nstderr:\n%s", i+1, err, stdout.String(), stderr.String())
			}
			// One request per account: the rate-limited first account,
			// then the second, in the same call; the SDK's placeholder
			// never reaches the provider.
			if got := strings.TrimSpace(stdout.String()); got != want[sdk].out {
				t.Errorf("printed %q, want %q (stderr: %s)", got, want[sdk].out, stderr.String())
			}
			if got := fmt.Sprint(fake.take()); got != want[sdk].seen {
				t.Errorf("upstream saw %s, want %s", got, want[sdk].seen)
			}
		})
	}
	for sdk := range want {
		if !ran[sdk] {
			t.Errorf("no README Go block uses %s", sdk)
		}
	}
}
