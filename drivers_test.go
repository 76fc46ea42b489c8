package authvault

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/authvault/authvault/vault"
)

// The root package links no store driver: a program opts into Redis by
// importing vault/redisstore, so one that only calls HTTPClient carries
// no Redis client.
func TestLinksNoStoreDriver(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/authvault/authvault").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %v", deps)
	}
	for _, p := range deps {
		if strings.Contains(p, "go-redis") || strings.HasSuffix(p, "/vault/redisstore") {
			t.Errorf("the root package depends on %s", p)
		}
	}
}

// A URL whose store package the program does not import is refused
// before anything is opened, and the error says what to import; the URL
// itself, which may hold a password, is not repeated.
func TestOpenVaultUnregisteredScheme(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		url  string
		want string
	}{
		{"redis://:pw-not-shown@127.0.0.1:1/0", `import _ "github.com/authvault/authvault/vault/redisstore"`},
		{"rediss://:pw-not-shown@127.0.0.1:1/0", `import _ "github.com/authvault/authvault/vault/redisstore"`},
		{"postgres://u:pw-not-shown@db/authvault", "import the package of that store"},
	}
	for _, tt := range tests {
		_, err := OpenVault(ctx, tt.url, nil)
		if !errors.Is(err, vault.ErrUnknownScheme) {
			t.Fatalf("OpenVault(%s): %v, want ErrUnknownScheme", tt.url, err)
		}
		if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "pw-not-shown") {
			t.Errorf("OpenVault(%s): %v, want a message with %q and no password", tt.url, err, tt.want)
		}
		if _, err := Open(ctx, "anthropic", WithDir(tt.url)); !errors.Is(err, vault.ErrUnknownScheme) {
			t.Errorf("Open(WithDir(%s)): %v, want ErrUnknownScheme", tt.url, err)
		}
	}
}
