package adaptertest

import (
	"testing"

	"github.com/authvault/authvault/adapters"
)

// Registered fails t unless an adapter is registered for provider and
// says it serves it.
func Registered(t testing.TB, provider string) {
	t.Helper()
	a, ok := adapters.Lookup(provider)
	if !ok {
		t.Fatalf("%s adapter not registered", provider)
	}
	if a.Provider() != provider {
		t.Errorf("Provider() = %q, want %q", a.Provider(), provider)
	}
}
