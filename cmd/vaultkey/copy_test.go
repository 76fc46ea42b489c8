package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// redisTestEnv names the Redis server the Redis tests use, as a URL
// (redis://127.0.0.1:6379/0). CI sets it; elsewhere the tests skip.
const redisTestEnv = "AUTHVAULT_TEST_REDIS"

// redisURL returns a URL for a vault of the test's own under a fresh
// prefix, whose keys are deleted at the end; it skips the test when
// AUTHVAULT_TEST_REDIS is unset (a failure under CI=true).
func redisURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv(redisTestEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s must be set in CI", redisTestEnv)
		}
		t.Skipf("%s not set: install redis-server and set it to redis://127.0.0.1:PORT/0 for a server on PORT (bash .ci/run does both)", redisTestEnv)
	}
	var b [6]byte
	rand.Read(b[:])
	prefix := "vaultkey-test-" + hex.EncodeToString(b[:])
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		iter := rdb.Scan(ctx, 0, prefix+":*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return base + sep + "prefix=" + prefix
}

func TestCopyDirectories(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	s.addKey("openai", "work", "sk-canary-copy-dir")
	dst := filepath.Join(s.root, "copy")

	r := s.run(0, "copy", s.dir, dst)
	if !strings.HasPrefix(r.stdout, "copied vault ") || !strings.Contains(r.stdout, "to "+dst) {
		t.Errorf("stdout %q", r.stdout)
	}
	// The copy opens with the same key and holds the same records.
	want := allRecords(t, openVault(t, s.dir, s.identitiesFromFile()))
	if d := diffRecords(want, allRecords(t, openVault(t, dst, s.identitiesFromFile()))); d != "" {
		t.Errorf("copy differs (-want +got):\n%s", d)
	}
	s.run(0, "status", "--dir", dst)

	// Never over a vault, never into a directory holding other files,
	// never from a place without a vault.
	before := snapshot(t, dst)
	if r := s.run(1, "copy", s.dir, dst); !strings.Contains(r.stderr, "already holds a vault") {
		t.Errorf("copy over a vault:\n%s", r)
	}
	if d := keysDiff(before, snapshot(t, dst)); len(d) != 0 {
		t.Errorf("the refused copy changed the destination: %v", d)
	}
	other := filepath.Join(s.root, "other")
	os.MkdirAll(other, 0o700)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("x"), 0o600)
	if r := s.run(1, "copy", s.dir, other); !strings.Contains(r.stderr, "not empty") {
		t.Errorf("copy into a non-empty directory:\n%s", r)
	}
	if r := s.run(1, "copy", filepath.Join(s.root, "nothing"), filepath.Join(s.root, "new")); !strings.Contains(r.stderr, "holds no vault") {
		t.Errorf("copy from nothing:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(s.root, "new")); !os.IsNotExist(err) {
		t.Error("a failed copy left its destination behind")
	}
	s.run(2, "copy", s.dir)
	s.run(2, "copy", "a", "b", "c")
}

func TestCopyRedis(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	s := newSandbox(t)
	s.initFile()
	s.addKey("anthropic", "first", "sk-ant-canary-redis-1")

	// Directory to Redis.
	r := s.run(0, "copy", s.dir, url)
	if !strings.Contains(r.stdout, "copied vault ") || !strings.Contains(r.stdout, "redis://") {
		t.Errorf("stdout %q", r.stdout)
	}
	// Every command takes the URL as --dir, or as AUTHVAULT_DIR.
	var st statusJSON
	if err := json.Unmarshal([]byte(s.run(0, "status", "--dir", url, "--json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.Records != 1 || !st.Integrity.OK || !strings.HasPrefix(st.Dir, "redis://") || st.KeySource == "" {
		t.Errorf("status of the Redis vault: %+v", st)
	}
	s.addKey("anthropic", "second", "sk-ant-canary-redis-2", "--dir", url)
	s.run(0, "accounts", "disable", "anthropic/second", "--dir", url)
	if r := s.runWith(runOpts{env: map[string]string{"AUTHVAULT_DIR": url}}, "accounts", "list"); r.code != 0 ||
		!strings.Contains(r.stdout, "second") || !strings.Contains(r.stdout, "disabled") {
		t.Errorf("accounts list with AUTHVAULT_DIR=URL:\n%s", r)
	}
	// The directory vault did not see the write: two vaults now.
	if r := s.run(0, "accounts", "list"); strings.Contains(r.stdout, "second") {
		t.Error("the write to Redis reached the directory")
	}

	// Never over a vault; vaults are not made in Redis directly.
	if r := s.run(1, "copy", s.dir, url); !strings.Contains(r.stderr, "already holds a vault") {
		t.Errorf("copy over the Redis vault:\n%s", r)
	}
	if r := s.run(1, "init", "--key-store", "file", "--dir", url); !strings.Contains(r.stderr, "vaultkey copy") {
		t.Errorf("init in Redis:\n%s", r)
	}

	// Redis back to a directory: both accounts and the pool state.
	back := filepath.Join(s.root, "back")
	s.run(0, "copy", url, back)
	var accts []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(s.run(0, "accounts", "list", "--json", "--dir", back).stdout), &accts); err != nil {
		t.Fatal(err)
	}
	if len(accts) != 2 || accts[1].ID != "anthropic/default/second" || accts[1].State != "disabled" {
		t.Errorf("the copy back: %+v", accts)
	}
	s.run(0, "status", "--dir", back)
}

func TestRedisPasswordNotPrinted(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	const password = "CANARY-redis-password"
	s.addSecret(password)
	// Nothing listens on port 1: the error names the server, not the
	// password.
	url := "redis://:" + password + "@127.0.0.1:1/0?timeout=200ms"
	for _, args := range [][]string{
		{"copy", s.dir, url},
		{"status", "--dir", url},
		{"accounts", "list", "--dir", url},
	} {
		if r := s.run(1, args...); !strings.Contains(r.stderr, "127.0.0.1:1") {
			t.Errorf("%v:\n%s", args, r)
		}
	}
	if r := s.run(1, "init", "--dir", url); !strings.Contains(r.stderr, "vaultkey copy") {
		t.Errorf("init:\n%s", r)
	}
}
