package vault

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"redis://127.0.0.1:6379/0":          true,
		"REDISS://h:6380/1?prefix=a":        true,
		"my-store+tls://h":                  true,
		"/home/me/.local/share/authvault":   false,
		"relative/dir":                      false,
		"redis":                             false,
		`C:\Users\me\AppData\authvault`:     false,
		"C://Users/me/authvault":            false,
		"./redis://not-a-url-but-a-dirname": false,
		"1redis://h":                        false,
		"://h":                              false,
	} {
		if got := IsURL(s); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", s, got, want)
		}
	}
}

// A registered scheme opens through its opener, whatever its case; an
// unregistered one is ErrUnknownScheme; registering twice panics.
func TestRegister(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var got string
	Register("schemetest", func(_ context.Context, url string) (Store, string, error) {
		got = url
		return DirStore(dir), "schemetest://shown", nil
	})
	st, name, err := OpenURL(ctx, "SchemeTest://secret@x")
	if err != nil {
		t.Fatal(err)
	}
	if got != "SchemeTest://secret@x" || name != "schemetest://shown" {
		t.Errorf("opener got %q, named %q", got, name)
	}
	if _, err := StoreID(st); !errors.Is(err, ErrNoVault) {
		t.Errorf("StoreID of an empty store: %v, want ErrNoVault", err)
	}
	st.Close()

	if _, _, err := OpenURL(ctx, "unregistered://secret@x"); !errors.Is(err, ErrUnknownScheme) || strings.Contains(err.Error(), "secret") {
		t.Errorf("unregistered scheme: %v, want ErrUnknownScheme without the URL", err)
	}
	if _, _, err := OpenURL(ctx, "/a/dir"); err == nil {
		t.Error("OpenURL of a directory succeeded")
	}
	for _, tt := range []struct {
		scheme string
		open   Opener
	}{
		{"SCHEMETEST", func(context.Context, string) (Store, string, error) { return nil, "", nil }},
		{"other", nil},
		{"a", func(context.Context, string) (Store, string, error) { return nil, "", nil }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", tt.scheme)
				}
			}()
			Register(tt.scheme, tt.open)
		}()
	}
}

// StoreID reads the id of the vault in any store, as ReadID does for a
// directory.
func TestStoreID(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "v")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	v, err := Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	st := DirStore(dir)
	defer st.Close()
	got, err := StoreID(st)
	if err != nil || got != v.ID() {
		t.Errorf("StoreID = %q, %v; want %q", got, err, v.ID())
	}
	if got, err := ReadID(dir); err != nil || got != v.ID() {
		t.Errorf("ReadID = %q, %v; want %q", got, err, v.ID())
	}
	if _, err := ReadID(t.TempDir()); !errors.Is(err, ErrNoVault) {
		t.Errorf("ReadID of an empty directory: %v, want ErrNoVault", err)
	}
}
