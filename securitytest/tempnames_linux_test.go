package securitytest

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/authvault/authvault/records"
)

// Temporary files get a fresh random name for every write, "." + the final
// name + random digits, so no one can plant anything at the name a write
// will use. Watched with inotify: every name the vault creates is either a
// final vault name or such a temporary name, and none repeats.
func TestTempNamesRandom(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	defer unix.Close(fd)
	for _, d := range []string{f.dir, filepath.Join(f.dir, "records"), filepath.Join(f.dir, "state")} {
		if _, err := unix.InotifyAddWatch(fd, d, unix.IN_CREATE); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		if _, err := f.v.Update(ctx, idAPI, func(r *records.Record) error { r.API.Key += "x"; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := f.v.UpdateState(ctx, "canary-state", func(b []byte) ([]byte, error) { return append(b, 'x'), nil }); err != nil {
			t.Fatal(err)
		}
		// A new state blob.
		if _, err := f.v.UpdateState(ctx, fmt.Sprintf("new-state-%d", i), func(b []byte) ([]byte, error) { return []byte("x"), nil }); err != nil {
			t.Fatal(err)
		}
	}
	var created []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EAGAIN || n <= 0 {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			created = append(created, strings.TrimRight(string(name), "\x00"))
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
	final := regexp.MustCompile(`^([a-z2-7]{32}\.[0-9a-f]+\.avr|[a-z2-7]{32}\.avs)$`)
	temp := regexp.MustCompile(`^\.(manifest\.avm|[a-z2-7]{32}\.[0-9a-f]+\.avr)[0-9]{19}$`)
	seen := map[string]bool{}
	temps := 0
	for _, name := range created {
		switch {
		case final.MatchString(name):
		case temp.MatchString(name):
			temps++
			if seen[name] {
				t.Errorf("temporary name %q used twice", name)
			}
			seen[name] = true
		default:
			t.Errorf("the vault created %q, neither a vault file nor a random temporary name", name)
		}
	}
	t.Logf("created, among others: %q", created[:min(len(created), 6)])
	// Per round: a record and the manifest. State blobs are created at
	// their name and rewritten in place.
	if temps < 8 {
		t.Fatalf("saw %d temporary files in %d creations: %q", temps, len(created), created)
	}
}
