//go:build unix

package securitytest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// isSymlinkRefusal reports whether err is the vault refusing a symlink.
func isSymlinkRefusal(err error) bool {
	var pe *vault.PermissionError
	return errors.As(err, &pe) && pe.Symlink
}

// victim is a file outside the vault that a symlink points at; it must
// never change.
func victim(t *testing.T) (path string, check func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, func() {
		t.Helper()
		if b, err := os.ReadFile(path); err != nil || string(b) != "precious" {
			t.Errorf("the file a symlink points at was changed: %q, %v", b, err)
		}
	}
}

// replaceWithSymlink moves p away and puts a symlink to the moved copy in
// its place, so that following the link would find valid content.
func replaceWithSymlink(t *testing.T, p string) {
	t.Helper()
	moved := filepath.Join(t.TempDir(), filepath.Base(p))
	if err := os.Rename(p, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(moved, p); err != nil {
		t.Fatal(err)
	}
}

// A symlink anywhere in the vault is refused, never followed: the vault
// directory itself, vault.json, the manifest, record and state files, the
// records, state and locks directories, and lock files.
func TestSymlinksRefused(t *testing.T) {
	ctx := context.Background()
	put := func(v *vault.Vault) error {
		_, err := v.Put(ctx, &records.Record{Provider: "openai", Namespace: "default", Label: "new",
			Kind: records.KindAPI, API: &records.APIKey{Key: "k"}})
		return err
	}
	tests := []struct {
		name string
		// plant changes the vault; use returns the error of the operation
		// that must refuse.
		plant func(t *testing.T, f *fixture)
		use   func(t *testing.T, f *fixture) error
	}{
		{"vault directory", func(t *testing.T, f *fixture) { replaceWithSymlink(t, f.dir) },
			func(t *testing.T, f *fixture) error {
				_, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity})
				return err
			}},
		{"vault.json", func(t *testing.T, f *fixture) { replaceWithSymlink(t, filepath.Join(f.dir, "vault.json")) },
			func(t *testing.T, f *fixture) error {
				_, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity})
				return err
			}},
		{"manifest", func(t *testing.T, f *fixture) { replaceWithSymlink(t, filepath.Join(f.dir, "manifest.avm")) },
			func(t *testing.T, f *fixture) error {
				_, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity})
				return err
			}},
		{"record file", func(t *testing.T, f *fixture) { replaceWithSymlink(t, onlyFileOf(t, f, idAPI)) },
			func(t *testing.T, f *fixture) error { _, err := f.open(t).Get(ctx, idAPI); return err }},
		{"records directory (write)", func(t *testing.T, f *fixture) { replaceWithSymlink(t, filepath.Join(f.dir, "records")) },
			func(t *testing.T, f *fixture) error { return put(f.v) }},
		{"records directory (read)", func(t *testing.T, f *fixture) { replaceWithSymlink(t, filepath.Join(f.dir, "records")) },
			func(t *testing.T, f *fixture) error {
				v, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity})
				if err != nil {
					return err
				}
				defer v.Close()
				got, err := v.Get(ctx, idAPI)
				if err == nil {
					if got.API.Key.Reveal() != f.c.APIKey {
						t.Fatal("read through a symlinked directory returned other data")
					}
					t.Fatal("a read followed a symlinked records/ directory")
				}
				return err
			}},
		{"state file", func(t *testing.T, f *fixture) { replaceWithSymlink(t, stateFileOf(t, f, "canary-state")) },
			func(t *testing.T, f *fixture) error { _, _, err := f.v.ReadState(ctx, "canary-state"); return err }},
		{"state file (write)", func(t *testing.T, f *fixture) { replaceWithSymlink(t, stateFileOf(t, f, "canary-state")) },
			func(t *testing.T, f *fixture) error {
				_, err := f.v.UpdateState(ctx, "canary-state", func([]byte) ([]byte, error) { return []byte("x"), nil })
				return err
			}},
		{"state directory (write)", func(t *testing.T, f *fixture) { replaceWithSymlink(t, filepath.Join(f.dir, "state")) },
			func(t *testing.T, f *fixture) error {
				_, err := f.v.UpdateState(ctx, "canary-state", func([]byte) ([]byte, error) { return []byte("x"), nil })
				return err
			}},
		{"state directory (read)", func(t *testing.T, f *fixture) { replaceWithSymlink(t, filepath.Join(f.dir, "state")) },
			func(t *testing.T, f *fixture) error {
				got, _, err := f.v.ReadState(ctx, "canary-state")
				if err == nil {
					if !strings.Contains(string(got), "dave@example.com") {
						t.Fatal("read through a symlinked directory returned other data")
					}
					t.Fatal("a read followed a symlinked state/ directory")
				}
				return err
			}},
		{"vault lock file", func(t *testing.T, f *fixture) { replaceWithSymlink(t, filepath.Join(f.dir, ".lock")) },
			func(t *testing.T, f *fixture) error { return put(f.v) }},
		{"record lock file", func(t *testing.T, f *fixture) {
			unlock, err := f.v.LockRecord(ctx, idOAuth)
			if err != nil {
				t.Fatal(err)
			}
			unlock()
			ents, _ := os.ReadDir(filepath.Join(f.dir, "locks"))
			replaceWithSymlink(t, filepath.Join(f.dir, "locks", ents[0].Name()))
		}, func(t *testing.T, f *fixture) error { _, err := f.v.LockRecord(ctx, idOAuth); return err }},
		{"locks directory", func(t *testing.T, f *fixture) {
			os.Mkdir(filepath.Join(f.dir, "locks"), 0o700)
			replaceWithSymlink(t, filepath.Join(f.dir, "locks"))
		}, func(t *testing.T, f *fixture) error { _, err := f.v.LockRecord(ctx, idOAuth); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.plant(t, f)
			before := snapshotOutside(t, f.dir)
			err := tc.use(t, f)
			if !isSymlinkRefusal(err) {
				t.Errorf("got %v, want a *vault.PermissionError for a symlink", err)
			}
			f.c.checkErr(t, tc.name, err)
			if after := snapshotOutside(t, f.dir); after != before {
				t.Error("a file outside the vault changed through the symlink")
			}
		})
	}
}

// snapshotOutside fingerprints what the vault's symlinks point at: the
// temporary directories the test moved files to.
func snapshotOutside(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		target, _ := os.Readlink(p)
		filepath.WalkDir(target, func(q string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				data, _ := os.ReadFile(q)
				b.WriteString(q + "\x00" + string(data) + "\x00")
			}
			return nil
		})
		return nil
	})
	return b.String()
}

// Temporary files are created under random names with O_EXCL, which never
// follows a symlink: symlinks planted at every name a careless writer
// might use, or at the very name the next record version will have, are
// never written through.
func TestTempFileSymlinksNotFollowed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	target, check := victim(t)
	h, _ := readHeader(t, f.dir)
	dek := f.dataKey(t)
	apiBase := "records/" + opaqueName(t, dek, h.VaultID, "record\x00"+idAPI.String())
	state := "state/" + opaqueName(t, dek, h.VaultID, "state\x00canary-state") + ".avs"
	var planted []string
	for _, final := range []string{"vault.json", "manifest.avm", "manifest.next.avm", state, apiBase + ".5.avr", ".lock"} {
		dir, base := filepath.Split(final)
		for _, name := range []string{"." + base, "." + base + ".tmp", base + ".tmp", base + ".new", base + "~",
			"." + base + "0", "." + base + "1", "." + base + ".tmp0", "." + base + ".tmp1"} {
			p := filepath.Join(f.dir, dir, name)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			planted = append(planted, p)
		}
	}
	// Every kind of write: records, the manifest, state (durable and
	// volatile), the header (new key slot), the record lock.
	for i := 0; i < 3; i++ {
		if _, err := f.v.Update(ctx, idAPI, func(r *records.Record) error { r.API.Key += "x"; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := f.v.UpdateState(ctx, "canary-state", func(b []byte) ([]byte, error) { return append(b, 'x'), nil }); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := age.GenerateHybridIdentity()
	if err := f.v.AddRecipient(ctx, other.Recipient()); err != nil {
		t.Fatal(err)
	}
	unlock, err := f.v.LockRecord(ctx, idOAuth)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	check()
	for _, p := range planted {
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("%s: planted symlink replaced or removed", p)
		}
	}
	if _, err := f.open(t).Verify(ctx); err != nil {
		t.Fatal(err)
	}

	// A symlink at the exact name the next version of a record gets.
	next := filepath.Join(f.dir, apiBase+"."+strconv.FormatUint(entryOf(t, f.v, idAPI).Generation+1, 16)+".avr")
	if err := os.Symlink(target, next); err != nil {
		t.Fatal(err)
	}
	_, err = f.v.Update(ctx, idAPI, func(r *records.Record) error { r.API.Key += "y"; return nil })
	if !isSymlinkRefusal(err) {
		t.Errorf("Update with a symlink at the next record name: %v", err)
	}
	check()
}

// Vault files that other users could read or write are refused, with the
// chmod that fixes them; InsecurePermissions accepts them (for file
// systems without Unix modes) but still refuses symlinks.
func TestLooseModesRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		file string
		mode os.FileMode
		use  func(t *testing.T, f *fixture, opts ...vault.Option) error
	}{
		{".", 0o755, openErr},
		{".", 0o710, openErr},
		{"vault.json", 0o644, openErr},
		{"manifest.avm", 0o640, openErr},
		{"record", 0o604, func(t *testing.T, f *fixture, opts ...vault.Option) error {
			v, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}, opts...)
			if err != nil {
				return err
			}
			defer v.Close()
			_, err = v.Get(ctx, idAPI)
			return err
		}},
		{"records", 0o750, func(t *testing.T, f *fixture, opts ...vault.Option) error {
			v, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}, opts...)
			if err != nil {
				return err
			}
			defer v.Close()
			_, err = v.Update(ctx, idAPI, func(r *records.Record) error { return nil })
			return err
		}},
		{"state", 0o644, func(t *testing.T, f *fixture, opts ...vault.Option) error {
			v, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}, opts...)
			if err != nil {
				return err
			}
			defer v.Close()
			_, _, err = v.ReadState(ctx, "canary-state")
			return err
		}},
		{".lock", 0o660, func(t *testing.T, f *fixture, opts ...vault.Option) error {
			v, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}, opts...)
			if err != nil {
				return err
			}
			defer v.Close()
			_, err = v.Update(ctx, idAPI, func(r *records.Record) error { return nil })
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file+" "+tc.mode.String(), func(t *testing.T) {
			f := newFixture(t)
			f.v.Close()
			p := filepath.Join(f.dir, tc.file)
			switch tc.file {
			case "record":
				p = onlyFileOf(t, f, idAPI)
			case "state":
				p = stateFileOf(t, f, "canary-state")
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			err := tc.use(t, f)
			var pe *vault.PermissionError
			if !errors.As(err, &pe) || !errors.Is(err, vault.ErrPermissions) {
				t.Fatalf("got %v, want a *vault.PermissionError", err)
			}
			want := "chmod 600 "
			if fi, _ := os.Stat(p); fi.IsDir() {
				want = "chmod 700 "
			}
			if !strings.Contains(err.Error(), want+p) && !strings.Contains(err.Error(), want+filepath.Clean(p)) {
				t.Errorf("%q does not say %q", err, want+p)
			}
			if err := tc.use(t, f, vault.InsecurePermissions()); err != nil {
				t.Errorf("with InsecurePermissions: %v", err)
			}
		})
	}
	t.Run("symlink with InsecurePermissions", func(t *testing.T) {
		f := newFixture(t)
		replaceWithSymlink(t, filepath.Join(f.dir, "manifest.avm"))
		_, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}, vault.InsecurePermissions())
		if !isSymlinkRefusal(err) {
			t.Errorf("got %v", err)
		}
	})
}

func openErr(t *testing.T, f *fixture, opts ...vault.Option) error {
	v, err := vault.Open(context.Background(), f.dir, []age.Identity{f.c.identity}, opts...)
	if err == nil {
		v.Close()
	}
	return err
}

// Whatever the umask, the vault creates directories 0700 and files 0600.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	f := newFixture(t)
	unlock, err := f.v.LockRecord(ctx, idOAuth)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	other, _ := age.GenerateHybridIdentity()
	if err := f.v.AddRecipient(ctx, other.Recipient()); err != nil {
		t.Fatal(err)
	}
	if err := f.v.Rekey(ctx, []age.Recipient{other.Recipient()}, vault.RekeyOptions{Identities: []age.Identity{other}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700 | fs.ModeDir
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode(), want)
		}
		n++
		return nil
	})
	if n < 10 {
		t.Fatalf("only %d entries checked", n)
	}
}

// A hard link to a vault file keeps the content it had: the vault never
// writes a file in place, it writes a new one and renames it over the
// old. A hard link planted at a vault name is replaced, not written
// through.
func TestHardLinksNotWrittenThrough(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	outside := t.TempDir()
	link := func(p string) (string, []byte) {
		t.Helper()
		q := filepath.Join(outside, filepath.Base(p))
		if err := os.Link(p, q); err != nil {
			t.Fatal(err)
		}
		return q, readFile(t, p)
	}
	links := map[string][]byte{}
	for _, p := range []string{filepath.Join(f.dir, "vault.json"), filepath.Join(f.dir, "manifest.avm"),
		onlyFileOf(t, f, idOAuth), stateFileOf(t, f, "canary-state")} {
		q, b := link(p)
		links[q] = b
	}
	// A planted link: the state file is replaced by a hard link to a file
	// of the user's; the lock file too.
	vict, check := victim(t)
	sp := stateFileOf(t, f, "other")
	os.MkdirAll(filepath.Dir(sp), 0o700)
	if err := os.Link(vict, sp); err != nil {
		t.Fatal(err)
	}
	lp := filepath.Join(f.dir, ".lock")
	os.Remove(lp)
	if err := os.Link(vict, lp); err != nil {
		t.Fatal(err)
	}

	if _, err := f.v.Update(ctx, idOAuth, func(r *records.Record) error { r.OAuth.Access = "new-access"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.UpdateState(ctx, "canary-state", func([]byte) ([]byte, error) { return []byte("new"), nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.UpdateState(ctx, "other", func(old []byte) ([]byte, error) { return []byte("fresh"), nil }); err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateHybridIdentity()
	if err := f.v.AddRecipient(ctx, other.Recipient()); err != nil {
		t.Fatal(err)
	}
	for q, b := range links {
		if !bytes.Equal(readFile(t, q), b) {
			t.Errorf("%s: the vault wrote through a hard link", filepath.Base(q))
		}
	}
	check()
	if got, err := f.open(t).Get(ctx, idOAuth); err != nil || got.OAuth.Access != "new-access" {
		t.Errorf("Get after the writes: %v", err)
	}
}

// A reader that opened a record file before it was replaced reads the
// whole old version: files are replaced by rename, never rewritten.
func TestOpenFileKeepsOldVersion(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := onlyFileOf(t, f, idOAuth)
	before := readFile(t, p)
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	for i := 0; i < 3; i++ {
		if _, err := f.v.Update(ctx, idOAuth, func(r *records.Record) error { r.OAuth.Access += "x"; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := io.ReadAll(fh)
	if err != nil || !bytes.Equal(got, before) {
		t.Fatalf("the open file changed: %d bytes, %v", len(got), err)
	}
	h, _ := readHeader(t, f.dir)
	base := "records/" + opaqueName(t, f.dataKey(t), h.VaultID, "record\x00"+idOAuth.String())
	pt, err := openEnvelope(t, f.dataKey(t), h.VaultID, "records", 'r', base, got)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := records.Unmarshal(pt); err != nil || r.OAuth.Access.Reveal() != f.c.Access {
		t.Fatalf("the old version is not whole: %v", err)
	}
}

// Another user cannot read, list or plant anything in a vault: the
// directory is 0700. Run as root only, which can act as another user.
func TestOtherUsersLockedOut(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run commands as another user")
	}
	f := newFixture(t)
	// The path to the vault must be traversable for the test to mean
	// anything: open up every directory above it.
	for d := filepath.Dir(f.dir); d != "/"; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, fi.Mode().Perm()|0o001)
			defer os.Chmod(d, fi.Mode().Perm())
		}
	}
	for _, args := range [][]string{
		{"cat", filepath.Join(f.dir, "vault.json")},
		{"ls", f.dir},
		{"touch", filepath.Join(f.dir, "records", "planted")},
		{"ln", "-s", "/etc/passwd", filepath.Join(f.dir, "planted")},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%v as uid 65534 succeeded: %s", args, out)
		} else if !strings.Contains(string(out), "ermission denied") {
			t.Errorf("%v as uid 65534: %v: %s", args, err, out)
		}
	}
}

// A lock file owned by another user: in a 0700 directory only root (or
// the directory's owner) can put one there. The vault does not check
// owners: as root it uses such a lock file; as its owner, when the lock
// file cannot be opened, it refuses with an error naming the file rather
// than deleting a lock another process may hold.
func TestForeignOwnedLockFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create files owned by another user")
	}
	ctx := context.Background()
	t.Run("root uses it", func(t *testing.T) {
		f := newFixture(t)
		lp := filepath.Join(f.dir, ".lock")
		if err := os.Chown(lp, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, err := f.v.Update(ctx, idAPI, func(r *records.Record) error { return nil }); err != nil {
			t.Errorf("Update: %v", err)
		}
	})
	t.Run("the vault's owner refuses it", func(t *testing.T) {
		f := newFixture(t)
		f.v.Close()
		// A world-traversable home for a copy of this test binary, run as
		// uid 65534 who owns the vault; root owns the lock file.
		base, err := os.MkdirTemp("", "securitytest-nobody-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(base)
		os.Chmod(base, 0o755)
		exe, _ := os.Executable()
		bin := filepath.Join(base, "securitytest.test")
		if err := os.WriteFile(bin, readFile(t, exe), 0o755); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(base, "vault")
		copyDir(t, f.dir, dir)
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && filepath.Base(p) != ".lock" {
				os.Lchown(p, 65534, 65534)
			}
			return err
		})
		home := filepath.Join(base, "home")
		os.Mkdir(home, 0o700)
		os.Chown(home, 65534, 65534)
		cmd := exec.Command(bin)
		cmd.Env = []string{envRole + "=update", envArg + "=1", envDir + "=" + dir, "AUTHVAULT_KEY=" + f.c.Identity, "HOME=" + home}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		code, stdout, stderr := runHelperProc(t, cmd)
		if code == 0 {
			t.Fatal("the update succeeded with a lock file it cannot open")
		}
		lock := filepath.Join(dir, ".lock")
		if !strings.Contains(stderr, lock) || !strings.Contains(stderr, "permission denied") {
			t.Errorf("the error does not name the lock file and the reason: %s", stderr)
		}
		f.c.check(t, "stdout", stdout)
		f.c.check(t, "stderr", stderr)
	})
}
