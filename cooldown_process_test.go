package authvault_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

const envCooldownChild = "AUTHVAULT_TEST_COOLDOWN_CHILD"

// TestCooldownChild is the child process of TestCooldownOutlivesProcess:
// one request through the README's one-liner, then exit at once, closing
// nothing.
func TestCooldownChild(t *testing.T) {
	url := os.Getenv(envCooldownChild)
	if url == "" {
		t.Skip("child process only")
	}
	hc, err := authvault.HTTPClient(context.Background(), "openai", authvault.WithOrigins(url))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	resp, err := hc.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"gpt-4o"}`))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	resp.Body.Close()
	fmt.Println("status", resp.StatusCode)
	os.Exit(0)
}

// A process that meets a 429 and exits at once leaves the cooldown in the
// shared state: the next process's first request goes straight to the
// next account.
func TestCooldownOutlivesProcess(t *testing.T) {
	ctx := context.Background()
	id, _ := age.GenerateX25519Identity()
	dir := filepath.Join(t.TempDir(), "vault")
	v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"one", "two"} {
		if _, err := v.Put(ctx, &records.Record{Provider: "openai", Namespace: "default", Label: l,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret("sk-" + l)}}); err != nil {
			t.Fatal(err)
		}
	}
	v.Close()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		seen = append(seen, auth)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if auth == "sk-one" {
			w.Header().Set("Retry-After", "600")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
			return
		}
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`)
	}))
	defer srv.Close()
	home := t.TempDir()
	for i := 1; i <= 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCooldownChild$", "-test.count=1")
		cmd.Env = append(environWithout("AUTHVAULT_", "HOME=", "XDG_"), envCooldownChild+"="+srv.URL, "AUTHVAULT_DIR="+dir,
			"AUTHVAULT_KEY="+id.String(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
			"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "status 200") {
			t.Fatalf("process %d: %v\n%s", i, err, out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, ","); got != "sk-one,sk-two,sk-two" {
		t.Fatalf("upstream saw %s, want sk-one,sk-two,sk-two: one request in total on the limited key", got)
	}
}

// environWithout is this process's environment without the variables
// whose names start with one of prefixes.
func environWithout(prefixes ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		keep := true
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
