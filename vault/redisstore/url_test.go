package redisstore

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	const secret = "s3cr3t-pa55"
	tests := []struct {
		url     string
		prefix  string
		lockTTL time.Duration
		timeout time.Duration
		addr    string
		db      int
		display string
		err     string // substring of the error; "" for success
	}{
		{url: "redis://127.0.0.1:6379/0", prefix: "authvault", lockTTL: 10 * time.Second, timeout: 2 * time.Second,
			addr: "127.0.0.1:6379", display: "redis://127.0.0.1:6379/0?prefix=authvault"},
		{url: "redis://app:" + secret + "@cache:7000/3?prefix=team-a&lock_ttl=30s&timeout=500ms", prefix: "team-a",
			lockTTL: 30 * time.Second, timeout: 500 * time.Millisecond, addr: "cache:7000", db: 3,
			display: "redis://app@cache:7000/3?prefix=team-a"},
		{url: "redis://:" + secret + "@cache:7000/0?pool_size=4", prefix: "authvault", lockTTL: 10 * time.Second,
			timeout: 2 * time.Second, addr: "cache:7000", display: "redis://cache:7000/0?prefix=authvault"},
		{url: "redis://:" + secret + "@cache:7000/0?prefix=a:b", err: "prefix"},
		{url: "redis://:" + secret + "@cache:7000/0?prefix=", err: "prefix"},
		{url: "redis://:" + secret + "@cache:7000/0?prefix=a&prefix=b", err: "given 2 times"},
		{url: "redis://:" + secret + "@cache:7000/0?lock_ttl=5ms", err: "lock_ttl"},
		{url: "redis://:" + secret + "@cache:7000/0?lock_ttl=soon", err: "lock_ttl"},
		{url: "redis://:" + secret + "@cache:7000/0?timeout=0s", err: "timeout"},
		{url: "redis://:" + secret + "@cache:7000/0?bogus=" + secret, err: "unexpected option"},
		{url: "redis://:" + secret + "@cache:7000/x", err: "database"},
		{url: "redis://:" + secret + "@cache:port/0", err: "malformed"},
		{url: "redis://:" + secret + "@cache:7000/0%zz", err: "malformed"},
		{url: "/var/lib/authvault", err: "not a redis"},
		{url: "./redis://not-a-url-but-a-dirname", err: "not a redis"},
		{url: "REDIS://cache:7000/0", prefix: "authvault", lockTTL: 10 * time.Second, timeout: 2 * time.Second,
			addr: "cache:7000", display: "redis://cache:7000/0?prefix=authvault"},
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c, err := parseURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one about %q", err, tt.err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("the error reveals the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.prefix != tt.prefix || c.lockTTL != tt.lockTTL || c.timeout != tt.timeout ||
				c.opts.Addr != tt.addr || c.opts.DB != tt.db || c.display != tt.display {
				t.Errorf("got prefix %q ttl %v timeout %v addr %q db %d display %q", c.prefix, c.lockTTL, c.timeout, c.opts.Addr, c.opts.DB, c.display)
			}
			if c.opts.ReadTimeout != tt.timeout || c.opts.DialTimeout != tt.timeout || c.opts.MaxRetries != 1 {
				t.Errorf("not failing fast: read %v dial %v retries %d", c.opts.ReadTimeout, c.opts.DialTimeout, c.opts.MaxRetries)
			}
			if strings.Contains(c.display, secret) {
				t.Errorf("display %q reveals the password", c.display)
			}
		})
	}
}

// Open against a port nobody listens on: an *UnavailableError naming the
// address, quickly, without the password.
func TestOpenUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	start := time.Now()
	_, err = Open(context.Background(), "redis://:hunter2-secret@"+addr+"/0?timeout=500ms")
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Addr != addr {
		t.Fatalf("Open: %v, want *UnavailableError for %s", err, addr)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error reveals the password: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Open took %v to fail", d)
	}
}
