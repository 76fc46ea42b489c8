//go:build unix

package securitytest

import (
	"strings"
	"testing"

	"github.com/authvault/authvault/gateway"
)

// vaultkey serve listens on loopback only: another address needs
// --allow-remote, and even then at least one client token.
func TestGatewayLoopbackOnly(t *testing.T) {
	bin := buildVaultkey(t)
	f := newFixture(t)
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0"} {
		code, _, stderr := vaultkey(t, bin, f.c.Identity, "", nil, "serve", "--dir", f.dir, "--listen", addr)
		if code != 1 || !strings.Contains(stderr, "--allow-remote") {
			t.Errorf("serve --listen %s: exit %d, stderr %q", addr, code, stderr)
		}
		f.c.check(t, "serve's error", stderr)
		code, _, stderr = vaultkey(t, bin, f.c.Identity, "", nil, "serve", "--dir", f.dir, "--listen", addr, "--allow-remote")
		if code != 1 || !strings.Contains(stderr, "clients add") {
			t.Errorf("serve --listen %s --allow-remote without clients: exit %d, stderr %q", addr, code, stderr)
		}
	}
	// The refusals did not add a client.
	if cs, err := gateway.Clients(t.Context(), f.v); err != nil || len(cs) != 0 {
		t.Fatalf("clients %v, %v", cs, err)
	}
}
