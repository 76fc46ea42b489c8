//go:build unix

package securitytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// A records/ or state/ directory replaced by a symbolic link (to a
// directory holding what a sweep would delete) is refused by every
// operation, Sweep and the Verify of a process that used the vault
// before included, and nothing is deleted through it. The Verify of such
// a process also sees a vault directory whose mode was loosened.
func TestSymlinkedDirectoriesTouchNothing(t *testing.T) {
	ctx := context.Background()
	for _, sub := range []string{"records", "state"} {
		t.Run(sub, func(t *testing.T) {
			f := newFixture(t)
			warm := f.open(t)
			if _, err := warm.Get(ctx, idAPI); err != nil {
				t.Fatal(err)
			}
			if _, _, err := warm.ReadState(ctx, "canary-state"); err != nil {
				t.Fatal(err)
			}
			elsewhere := t.TempDir()
			bait := []string{".hidden", ".notes.avr1234567890123456789", "notes.1.avr", "notes.ff.avr"}
			for _, n := range bait {
				writeFile(t, filepath.Join(elsewhere, n), []byte("precious"))
			}
			p := filepath.Join(f.dir, sub)
			if err := os.Rename(p, p+".moved"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, p); err != nil {
				t.Fatal(err)
			}

			var errs []error
			_, err := warm.Sweep(ctx)
			errs = append(errs, err)
			_, err = f.v.Sweep(ctx)
			errs = append(errs, err)
			_, err = warm.Verify(ctx)
			errs = append(errs, err)
			_, err = warm.Put(ctx, &records.Record{Provider: "openai", Namespace: "default", Label: "new", Kind: records.KindAPI, API: &records.APIKey{Key: "k"}})
			errs = append(errs, err)
			errs = append(errs, warm.Delete(ctx, idWK))
			_, err = warm.UpdateState(ctx, "canary-state", func(b []byte) ([]byte, error) { return b, nil })
			errs = append(errs, err)
			_, err = vault.Open(ctx, f.dir, []age.Identity{f.c.identity})
			errs = append(errs, err)
			store := vault.DirStore(f.dir)
			_, err = store.List(sub)
			errs = append(errs, err)
			errs = append(errs, store.Remove(sub+"/notes.1.avr"))
			_, err = store.Read(sub + "/notes.1.avr")
			errs = append(errs, err)
			if sub == "records" {
				warm2 := vault.DirStore(f.dir)
				_, err = warm2.Stamp("records/notes.1.avr")
				_ = err // a stamp may see through: it only ever causes a read, which is refused
			} else {
				_, _, err = warm.ReadState(ctx, "other")
				errs = append(errs, err)
			}
			for i, err := range errs {
				if !isSymlinkRefusal(err) {
					t.Errorf("operation %d: %v, want a *vault.PermissionError for a symlink", i, err)
				}
			}
			for _, n := range bait {
				if b, err := os.ReadFile(filepath.Join(elsewhere, n)); err != nil || string(b) != "precious" {
					t.Errorf("%s was touched through the link: %q, %v", n, b, err)
				}
			}
			if ents, _ := os.ReadDir(elsewhere); len(ents) != len(bait) {
				t.Errorf("the linked directory holds %d files, want %d", len(ents), len(bait))
			}
		})
	}
	t.Run("vault directory 0777", func(t *testing.T) {
		f := newFixture(t)
		warm := f.open(t)
		if err := os.Chmod(f.dir, 0o777); err != nil {
			t.Fatal(err)
		}
		_, err := warm.Verify(ctx)
		var pe *vault.PermissionError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "chmod 700 "+f.dir) {
			t.Errorf("Verify of a process that opened the vault before: %v", err)
		}
		if _, err := warm.Put(ctx, &records.Record{Provider: "openai", Namespace: "default", Label: "new", Kind: records.KindAPI, API: &records.APIKey{Key: "k"}}); !errors.As(err, &pe) {
			t.Errorf("Put: %v", err)
		}
	})
}

// mkfifo makes a FIFO at p, in place of whatever was there.
func mkfifo(t *testing.T, p string) {
	t.Helper()
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
}

// within runs fn and fails the test if it has not returned after d: a
// FIFO must never make anything wait for a writer.
func within(t *testing.T, d time.Duration, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s still blocked after %v", what, d)
		return nil
	}
}

// A FIFO in place of a record, the manifest, vault.json, the key file or
// the file AUTHVAULT_KEY_FILE names makes nothing wait: Open, Get,
// Verify and vaultkey status return a typed error at once, whatever the
// context allows. So do a socket and a directory.
func TestFIFOsBlockNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, which := range []string{"record", "manifest.avm", "vault.json", "state"} {
		t.Run(which, func(t *testing.T) {
			f := newFixture(t)
			warm := f.open(t)
			p := map[string]string{"record": onlyFileOf(t, f, idAPI), "manifest.avm": filepath.Join(f.dir, "manifest.avm"),
				"vault.json": filepath.Join(f.dir, "vault.json"), "state": stateFileOf(t, f, "canary-state")}[which]
			mkfifo(t, p)
			var pe *vault.PermissionError
			err := within(t, 5*time.Second, "Open", func() error {
				v, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity})
				if err == nil {
					defer v.Close()
					if _, err = v.Get(ctx, idAPI); err == nil {
						_, _, err = v.ReadState(ctx, "canary-state")
					}
				}
				return err
			})
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("fresh process: %v, want a *vault.PermissionError", err)
			}
			if which != "state" { // Verify reads records, not state blobs
				err = within(t, 5*time.Second, "Verify", func() error { _, err := warm.Verify(ctx); return err })
				if !errors.As(err, &pe) {
					t.Errorf("Verify: %v", err)
				}
			}
			f.c.checkErr(t, which, err)
		})
	}
	t.Run("socket and directory", func(t *testing.T) {
		f := newFixture(t)
		p := onlyFileOf(t, f, idAPI)
		os.Remove(p)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		var pe *vault.PermissionError
		if _, err := f.open(t).Get(ctx, idAPI); !errors.As(err, &pe) {
			t.Errorf("a directory in place of a record: %v", err)
		}
		os.Remove(p)
		sock := filepath.Join(f.dir, "manifest.avm")
		os.Remove(sock)
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer syscall.Close(fd)
		if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
			t.Skipf("binding a socket in the vault: %v", err)
		}
		if _, err := vault.Open(ctx, f.dir, []age.Identity{f.c.identity}); !errors.As(err, &pe) {
			t.Errorf("a socket in place of the manifest: %v", err)
		}
	})
	t.Run("key files", func(t *testing.T) {
		bin := buildVaultkey(t)
		f := newFixture(t)
		f.v.Close()
		fifo := filepath.Join(t.TempDir(), "key.txt")
		mkfifo(t, fifo)
		for name, env := range map[string][]string{
			"AUTHVAULT_KEY_FILE": {"AUTHVAULT_KEY_FILE=" + fifo, "AUTHVAULT_DIR=" + f.dir},
			"key.txt":            {"AUTHVAULT_DIR=" + f.dir},
		} {
			if name == "key.txt" {
				kf, _ := keysource.DefaultFilePath()
				os.MkdirAll(filepath.Dir(kf), 0o700)
				mkfifo(t, kf)
				defer os.Remove(kf)
			}
			start := time.Now()
			code, stdout, stderr := vaultkey(t, bin, "", "", env, "status")
			if code == 0 || !strings.Contains(stderr, "not a regular file") {
				t.Errorf("%s: vaultkey status exited %d: %s%s", name, code, stdout, stderr)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("%s: vaultkey status took %v", name, d)
			}
		}
		src := &keysource.Env{Getenv: func(k string) string { return map[string]string{"AUTHVAULT_KEY_FILE": fifo}[k] }}
		err := within(t, 5*time.Second, "key source", func() error { _, err := src.Identities(ctx); return err })
		if !errors.Is(err, keysource.ErrNotKeyFile) {
			t.Errorf("AUTHVAULT_KEY_FILE naming a FIFO: %v", err)
		}
		// A FIFO in place of vault.json, for the command.
		mkfifo(t, filepath.Join(f.dir, "vault.json"))
		code, _, stderr := vaultkey(t, bin, f.c.Identity, "", []string{"AUTHVAULT_DIR=" + f.dir}, "status")
		if code == 0 || !strings.Contains(stderr, "not a regular file") {
			t.Errorf("vault.json a FIFO: vaultkey status exited %d: %s", code, stderr)
		}
	})
}

// A 200 MB sparse file in place of a record or of vault.json is refused
// from its size, before anything is read: the reading process's peak
// resident set stays small. Measured in a process of its own.
func TestOversizedFilesCostNoMemory(t *testing.T) {
	for _, which := range []string{"record", "vault.json"} {
		t.Run(which, func(t *testing.T) {
			f := newFixture(t)
			f.v.Close()
			p := map[string]string{"record": onlyFileOf(t, f, idAPI), "vault.json": filepath.Join(f.dir, "vault.json")}[which]
			if err := os.Truncate(p, 200<<20); err != nil {
				t.Fatal(err)
			}
			cmd := helper(t, "peak-rss", envDir+"="+f.dir, "AUTHVAULT_KEY="+f.c.Identity, envArg+"="+which)
			code, stdout, stderr := runHelperProc(t, cmd)
			if code != 0 {
				t.Fatalf("helper: %d %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			var before, after int64
			if _, err := fmt.Sscan(lines[0], &before, &after); err != nil {
				t.Fatalf("helper output %q", stdout)
			}
			t.Logf("peak RSS of the reading process: %d KiB before opening the vault, %d KiB after (%d KiB for reading)", before, after, after-before)
			if after-before > 16<<10 {
				t.Errorf("reading cost %d KiB of peak RSS", after-before)
			}
			refused := 0
			for _, l := range lines[1:] {
				if strings.Contains(l, "too large") {
					refused++
				}
			}
			if refused == 0 {
				t.Errorf("no operation refused the file as too large: %q", lines[1:])
			}
		})
	}
}

var tempFile = regexp.MustCompile(`^\..*[0-9]{19}$`)

// debrisCounts counts the temporary files anywhere in the vault and the
// record files the manifest does not name.
func debrisCounts(t *testing.T, f *fixture) (temps, orphans int) {
	t.Helper()
	for _, sub := range []string{".", "records", "state"} {
		ents, err := os.ReadDir(filepath.Join(f.dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if tempFile.MatchString(e.Name()) {
				temps++
			}
		}
	}
	ents, err := f.open(t).List(context.Background(), vault.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return temps, len(recordFiles(t, f.dir)) - len(ents)
}

// 200 writers killed with SIGKILL at random moments, and nobody runs
// Sweep: the temporary files and orphaned record versions they leave are
// collected by the next writers' commits, so at most a handful remain.
func TestDebrisBoundedWithoutSweep(t *testing.T) {
	kills := 200
	if testing.Short() {
		kills = 40
	}
	f := newFixture(t)
	f.v.Close()
	gen0 := entryOf(t, f.open(t), idAPI).Generation
	written := 0
	for i := 0; i < kills; i++ {
		cmd := helper(t, "killed-writer", envDir+"="+f.dir, "AUTHVAULT_KEY="+f.c.Identity)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("writer %d: %q %v %s", i, line, err, stderr.String())
		}
		// Half the writers die within 1–50 ms, half within 1–5 ms.
		ms := 1 + rand.IntN(50)
		if i%2 == 1 {
			ms = 1 + rand.IntN(5)
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if stderr.Len() > 0 {
			t.Fatalf("writer %d failed before it was killed: %s", i, stderr.String())
		}
		written++
	}
	temps, orphans := debrisCounts(t, f)
	commits := entryOf(t, f.open(t), idAPI).Generation - gen0
	t.Logf("after %d writers killed (%d record commits between them), without Sweep: %d temporary files, %d orphaned record files", written, commits, temps, orphans)
	if commits < uint64(kills)/4 {
		t.Errorf("only %d commits: the writers were killed before writing", commits)
	}
	// What is left is what the writers killed since the last commit left
	// (on a loaded machine, several may die before committing): the next
	// commit, a minute later, collects it.
	later := f.open(t, vault.WithClock(func() time.Time { return time.Now().Add(2 * time.Minute) }))
	if _, err := later.Update(context.Background(), idAPI, func(r *records.Record) error {
		if r.Meta == nil {
			r.Meta = map[string]string{}
		}
		r.Meta["n"] = "last"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	temps, orphans = debrisCounts(t, f)
	t.Logf("after one more commit: %d temporary files, %d orphaned record files", temps, orphans)
	if temps > 0 || orphans > 1 {
		t.Errorf("debris grew: %d temporary files, %d orphans after a commit", temps, orphans)
	}
	v := f.open(t)
	if _, err := v.Verify(context.Background()); err != nil {
		t.Errorf("Verify after the kills: %v", err)
	}
	if _, err := v.Get(context.Background(), idAPI); err != nil {
		t.Error(err)
	}
}

// An older manifest put back: the process that saw the newer one refuses
// it, a fresh process's write fails with ErrRollback (nothing is written,
// and the newer record files, the evidence, are kept), Sweep refuses and
// removes nothing, and Repair brings every record back at its newest
// value. A garbage file with a record's name and a high generation is not
// evidence: it is debris, and blocks nothing.
func TestRolledBackManifestFailsClosed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	mp := filepath.Join(f.dir, "manifest.avm")
	old := readFile(t, mp)
	want := map[records.ID]string{}
	for i := 0; i < 3; i++ {
		for _, id := range []records.ID{idAPI, idOAuth} {
			v := fmt.Sprintf("newer-%s-%d", id.Label, i)
			if _, err := f.v.Update(ctx, id, func(r *records.Record) error {
				if r.Meta == nil {
					r.Meta = map[string]string{}
				}
				r.Meta["v"] = v
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want[id] = v
		}
	}
	added, err := f.v.Put(ctx, &records.Record{Provider: "openai", Namespace: "default", Label: "added-later", Kind: records.KindAPI,
		API: &records.APIKey{Key: "later"}, Meta: map[string]string{"v": "added"}})
	if err != nil {
		t.Fatal(err)
	}
	want[added.ID()] = "added"
	writeFile(t, mp, old)
	before := files(t, f.dir)

	if _, err := f.v.Get(ctx, idAPI); !errors.Is(err, vault.ErrRollback) {
		t.Errorf("the process that saw the newer manifest: %v", err)
	}
	code, _, stderr := runHelperProc(t, helper(t, "put", envDir+"="+f.dir, "AUTHVAULT_KEY="+f.c.Identity, envArg+"=1"))
	if code == 0 || !strings.Contains(stderr, "rolled back") || !strings.Contains(stderr, "repair") {
		t.Errorf("a fresh process's Put: exit %d, %s", code, stderr)
	}
	fresh := f.open(t)
	if _, err := fresh.Update(ctx, idAPI, func(r *records.Record) error { return nil }); !errors.Is(err, vault.ErrRollback) {
		t.Errorf("Update: %v", err)
	}
	if _, err := fresh.Verify(ctx); !errors.Is(err, vault.ErrRollback) {
		t.Errorf("Verify: %v", err)
	}
	if n, err := fresh.Sweep(ctx); !errors.Is(err, vault.ErrRollback) || n != 0 {
		t.Errorf("Sweep: %d, %v", n, err)
	}
	if after := files(t, f.dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("files changed while the manifest was rolled back:\nbefore %q\nafter  %q", before, after)
	}

	changes, err := fresh.Repair(ctx, true)
	if err != nil || len(changes) != 3 {
		t.Fatalf("Repair dry run: %+v, %v", changes, err)
	}
	if after := files(t, f.dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Error("a dry run changed files")
	}
	if _, err := fresh.Repair(ctx, false); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*vault.Vault{fresh, f.open(t)} {
		for id, val := range want {
			r, err := v.Get(ctx, id)
			if err != nil || r.Meta["v"] != val {
				t.Errorf("%v after Repair: %v, %v", id, r, err)
			}
		}
		if _, err := v.Verify(ctx); err != nil {
			t.Errorf("Verify after Repair: %v", err)
		}
	}
	if _, err := f.v.Get(ctx, idAPI); err != nil {
		t.Errorf("the process that saw the newer manifest, after Repair: %v", err)
	}
	code, _, stderr = runHelperProc(t, helper(t, "put", envDir+"="+f.dir, "AUTHVAULT_KEY="+f.c.Identity, envArg+"=2"))
	if code != 0 {
		t.Errorf("Put after Repair: %s", stderr)
	}

	// Garbage named like a record version far ahead: debris, not evidence.
	h, _ := readHeader(t, f.dir)
	garbage := filepath.Join(f.dir, "records", opaqueName(t, f.dataKey(t), h.VaultID, "record\x00"+idAPI.String())+".ff.avr")
	writeFile(t, garbage, []byte("not a sealed record at all"))
	rep, err := fresh.Verify(ctx)
	if err != nil || rep.Orphans != 1 {
		t.Errorf("Verify with a garbage .ff.avr: %+v, %v", rep, err)
	}
	if n, err := fresh.Sweep(ctx); err != nil || n != 1 {
		t.Errorf("Sweep with a garbage .ff.avr: %d, %v", n, err)
	}
	if _, err := os.Lstat(garbage); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("garbage not swept: %v", err)
	}
}

// Freshness needs no shared memory: the vault package uses no unsafe and
// no mmap, and a process that cached a record or a state blob sees every
// write another process makes, at once, from one stat, even when the
// writes follow each other within one tick of the filesystem's clock.
func TestFreshnessWithoutSharedMemory(t *testing.T) {
	fset := token.NewFileSet()
	srcs, _ := filepath.Glob(filepath.Join("..", "vault", "*.go"))
	if len(srcs) < 5 {
		t.Fatalf("vault sources not found: %v", srcs)
	}
	for _, p := range srcs {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src := readFile(t, p)
		file, err := parser.ParseFile(fset, p, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			if imp.Path.Value == `"unsafe"` {
				t.Errorf("%s imports unsafe", p)
			}
		}
		if regexp.MustCompile(`\b(Mmap|Munmap|MAP_SHARED)\b`).Match(src) {
			t.Errorf("%s maps memory", p)
		}
	}

	ctx := context.Background()
	f := newFixture(t)
	reader := f.open(t)
	for round := 1; round <= 10; round++ {
		r, err := reader.Get(ctx, idAPI)
		if err != nil {
			t.Fatal(err)
		}
		_, st, err := reader.ReadState(ctx, "canary-state")
		if err != nil {
			t.Fatal(err)
		}
		// Another process: two record versions and two state versions,
		// back to back.
		code, _, stderr := runHelperProc(t, helper(t, "update", envDir+"="+f.dir, "AUTHVAULT_KEY="+f.c.Identity, envArg+"=2"))
		if code != 0 {
			t.Fatal(stderr)
		}
		for i := 0; i < 2; i++ {
			if _, err := f.v.UpdateState(ctx, "canary-state", func(b []byte) ([]byte, error) { return append(b, 'x'), nil }); err != nil {
				t.Fatal(err)
			}
		}
		got, err := reader.Get(ctx, idAPI)
		if err != nil {
			t.Fatal(err)
		}
		n0, _ := strconv.Atoi(r.Meta["n"])
		if n, _ := strconv.Atoi(got.Meta["n"]); n != n0+2 {
			t.Fatalf("round %d: the cached record was served: n=%d, want %d", round, n, n0+2)
		}
		if !reader.StateChanged("canary-state", st) {
			t.Fatalf("round %d: StateChanged missed two writes", round)
		}
	}
}

// An empty AUTHVAULT_KEY (a CI secret that expanded to nothing) is an
// error naming the variable, not a reason to fall through to the key
// file; so are an empty AUTHVAULT_KEY_FILE and AUTHVAULT_KEY_CMD.
func TestEmptyKeyVariableRefused(t *testing.T) {
	bin := buildVaultkey(t)
	f := newFixture(t)
	f.v.Close()
	kf, _ := keysource.DefaultFilePath()
	os.MkdirAll(filepath.Dir(kf), 0o700)
	writeFile(t, kf, []byte(f.c.Identity+"\n"))
	defer os.Remove(kf)
	if code, _, stderr := vaultkey(t, bin, "", "", []string{"AUTHVAULT_DIR=" + f.dir}, "status"); code != 0 {
		t.Fatalf("with the key file alone: %s", stderr)
	}
	for _, name := range []string{"AUTHVAULT_KEY", "AUTHVAULT_KEY_FILE", "AUTHVAULT_KEY_CMD"} {
		code, _, stderr := vaultkey(t, bin, "", "", []string{"AUTHVAULT_DIR=" + f.dir, name + "="}, "status")
		if code == 0 || !strings.Contains(stderr, name+" is set but empty") {
			t.Errorf("%s set but empty: exit %d, %s", name, code, stderr)
		}
	}
}
