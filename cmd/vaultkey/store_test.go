package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/redis/go-redis/v9"

	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/vault"
)

func TestStoreNames(t *testing.T) {
	for _, tc := range []struct {
		in      string
		url     bool
		display string
	}{
		{"/var/lib/vault", false, "/var/lib/vault"},
		{"redis-data", false, "redis-data"},
		{"redis://:s3cret@db.internal:6379/0?prefix=a", true, "redis://db.internal:6379/0?prefix=a"},
		{"rediss://user:s3cret@db.internal:6380/1", true, "rediss://user@db.internal:6380/1"},
		{"redis://:s3cret@db:port/0", true, "(malformed store URL)"},
	} {
		if got := vault.IsURL(tc.in); got != tc.url {
			t.Errorf("vault.IsURL(%q) = %v", tc.in, got)
		}
		if got := displayName(tc.in); got != tc.display {
			t.Errorf("displayName(%q) = %q, want %q", tc.in, got, tc.display)
		}
	}
}

func TestOpenVaultDirectory(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "vault")
	id, _ := age.GenerateX25519Identity()
	v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	k := &vaultKeys{Getenv: func(name string) string {
		switch name {
		case keysource.EnvKey:
			return id.String()
		case "HOME", "XDG_CONFIG_HOME":
			return t.TempDir()
		}
		return ""
	}}
	u, err := k.OpenVault(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if u.Dir() != dir {
		t.Errorf("Dir = %q", u.Dir())
	}
	u.Close()

	if _, err := k.OpenVault(ctx, filepath.Join(dir, "nothing")); !errors.Is(err, vault.ErrNoVault) || !strings.Contains(err.Error(), "vaultkey init") {
		t.Errorf("no vault: %v", err)
	}
	// New vaults are made in directories, never at a URL.
	if _, _, err := inspectDir("redis://:s3cret@127.0.0.1:1/0"); err == nil || !strings.Contains(err.Error(), "vaultkey copy") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("inspectDir of a URL: %v", err)
	}
}

func TestOpenVaultRedis(t *testing.T) {
	base := os.Getenv("AUTHVAULT_TEST_REDIS")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AUTHVAULT_TEST_REDIS must be set in CI")
		}
		t.Skip("AUTHVAULT_TEST_REDIS not set: install redis-server and set it to redis://127.0.0.1:PORT/0 for a server on PORT (bash .ci/run does both)")
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("cli-test-%d", time.Now().UnixNano())
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	url := base + sep + "prefix=" + prefix
	st, name, err := vault.OpenURL(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	v, err := vault.Create(ctx, name, []age.Recipient{id.Recipient()}, vault.WithStore(st))
	if err != nil {
		t.Fatal(err)
	}
	vaultID := v.ID()
	v.Close()
	t.Cleanup(func() {
		opts, err := redis.ParseURL(base)
		if err != nil {
			return
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		iter := rdb.Scan(ctx, 0, prefix+":*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})

	k := &vaultKeys{Getenv: func(name string) string {
		if name == keysource.EnvKey {
			return id.String()
		}
		return ""
	}}
	u, err := k.OpenVault(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if u.ID() != vaultID || u.Dir() != name || !strings.HasPrefix(u.Dir(), "redis://") {
		t.Errorf("opened %s at %q", u.ID(), u.Dir())
	}
	if _, err := k.OpenVault(ctx, url+"-none"); !errors.Is(err, vault.ErrNoVault) {
		t.Errorf("a prefix without a vault: %v", err)
	}
}
