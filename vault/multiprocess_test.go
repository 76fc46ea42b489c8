package vault

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/authvault/authvault/records"
)

// The multi-process tests re-execute the test binary as helper processes.
const helperEnv = "AUTHVAULT_VAULT_HELPER"

// extraHelpers are helper modes defined by other test files.
var extraHelpers = map[string]func(*Vault) error{}

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process only")
	}
	if err := runHelper(mode); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runHelper(mode string) error {
	ctx := context.Background()
	id, err := age.ParseX25519Identity(os.Getenv("AUTHVAULT_VAULT_KEY"))
	if err != nil {
		return err
	}
	v, err := Open(ctx, os.Getenv("AUTHVAULT_VAULT_DIR"), []age.Identity{id})
	if err != nil {
		return err
	}
	defer v.Close()
	n, _ := strconv.Atoi(os.Getenv("AUTHVAULT_VAULT_N"))
	worker := os.Getenv("AUTHVAULT_VAULT_WORKER")
	switch mode {
	case "increment":
		cid := records.ID{Provider: "test", Namespace: "default", Label: "counter"}
		for i := 0; i < n; i++ {
			_, err := v.Update(ctx, cid, func(r *records.Record) error {
				c, err := strconv.Atoi(r.Meta["count"])
				if err != nil {
					return err
				}
				r.Meta["count"] = strconv.Itoa(c + 1)
				return nil
			})
			if err != nil {
				return err
			}
		}
	case "distinct":
		for i := 0; i < n; i++ {
			r := apiRecord("test", fmt.Sprintf("w%s-%d", worker, i), "key-"+worker)
			if _, err := v.Put(ctx, r); err != nil {
				return err
			}
		}
	case "crashloop":
		// Acknowledge each write on stdout once it returned; the parent
		// kills this process at a random moment.
		out := bufio.NewWriter(os.Stdout)
		for i := 0; ; i++ {
			label := fmt.Sprintf("c%d", i%7)
			r := apiRecord("test", label, fmt.Sprintf("value-%s-%d", worker, i))
			if i%2 == 0 {
				_, err = v.Put(ctx, r)
			} else {
				_, err = v.Update(ctx, r.ID(), func(x *records.Record) error { x.API.Key = r.API.Key; return nil })
				if errors.Is(err, ErrNotFound) {
					_, err = v.Put(ctx, r)
				}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s %s\n", label, r.API.Key.Reveal())
			out.Flush()
		}
	default:
		if fn := extraHelpers[mode]; fn != nil {
			return fn(v)
		}
		return fmt.Errorf("unknown mode %q", mode)
	}
	return nil
}

func helperCmd(t testing.TB, tv *testVault, mode string, extra ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "AUTHVAULT_VAULT_DIR="+tv.dir,
		"AUTHVAULT_VAULT_KEY="+tv.id.(*age.X25519Identity).String())
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

func runHelpers(t *testing.T, tv *testVault, mode string, procs, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			cmd := helperCmd(t, tv, mode, "AUTHVAULT_VAULT_N="+strconv.Itoa(n), "AUTHVAULT_VAULT_WORKER="+strconv.Itoa(p))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("process %d: %v: %s", p, err, out)
			}
		}(p)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestMultiProcessUpdateLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const procs, n = 4, 50
	tv := newTestVault(t)
	counter := apiRecord("test", "counter", "k")
	counter.Meta = map[string]string{"count": "0"}
	mustPut(t, tv.Vault, counter)
	runHelpers(t, tv, "increment", procs, n)
	got, err := tv.reopen(t).Get(context.Background(), counter.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta["count"] != strconv.Itoa(procs*n) {
		t.Fatalf("count = %s, want %d", got.Meta["count"], procs*n)
	}
	if _, err := tv.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestMultiProcessDistinctRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const procs, n = 4, 25
	tv := newTestVault(t)
	runHelpers(t, tv, "distinct", procs, n)
	v := tv.reopen(t)
	es, err := v.List(context.Background(), Filter{Provider: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != procs*n {
		t.Fatalf("%d records, want %d", len(es), procs*n)
	}
	for _, e := range es {
		r, err := v.Get(context.Background(), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		w := strings.SplitN(strings.TrimPrefix(e.ID.Label, "w"), "-", 2)[0]
		if r.API.Key.Reveal() != "key-"+w {
			t.Errorf("%v holds another worker's key", e.ID)
		}
	}
	if rep, err := v.Verify(context.Background()); err != nil || rep.Orphans != 0 {
		t.Fatalf("Verify: %+v %v", rep, err)
	}
}

// A writer killed with SIGKILL at random moments never leaves the vault
// inconsistent, and every write it acknowledged is there.
func TestCrashDuringWrites(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("spawns and kills processes")
	}
	const kills = 20
	tv := newTestVault(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	acked := map[string]string{} // label -> last acknowledged value
	for k := 0; k < kills; k++ {
		cmd := helperCmd(t, tv, "crashloop", "AUTHVAULT_VAULT_WORKER="+strconv.Itoa(k))
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it acknowledge a random number of writes (at least one, so
		// the process is surely past its start-up), then kill it at a
		// random moment within the next write.
		want := 1 + rng.IntN(6)
		for i := 0; i < want; i++ {
			l, ok := <-lines
			if !ok {
				t.Fatal("helper exited early")
			}
			f := strings.Fields(l)
			acked[f[0]] = f[1]
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		for l := range lines {
			f := strings.Fields(l)
			acked[f[0]] = f[1]
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()

		v := tv.reopen(t)
		if _, err := v.Verify(ctx); err != nil {
			t.Fatalf("after kill %d: Verify: %v", k, err)
		}
		for label, val := range acked {
			r, err := v.Get(ctx, records.ID{Provider: "test", Namespace: "default", Label: label})
			if err != nil {
				t.Fatalf("after kill %d: %s: %v", k, label, err)
			}
			// The child may have committed one more write after its
			// last acknowledgement; it may not have lost one.
			if got := r.API.Key.Reveal(); got != val && !newerValue(got, val) {
				t.Fatalf("after kill %d: %s = %s, acknowledged %s", k, label, got, val)
			}
			acked[label] = r.API.Key.Reveal()
		}
		v.Close()
	}
}

// newerValue reports whether got ("value-W-I") was written after want.
func newerValue(got, want string) bool {
	parse := func(s string) (int, int) {
		f := strings.Split(s, "-")
		if len(f) != 3 {
			return -1, -1
		}
		w, _ := strconv.Atoi(f[1])
		i, _ := strconv.Atoi(f[2])
		return w, i
	}
	gw, gi := parse(got)
	ww, wi := parse(want)
	return gw > ww || gw == ww && gi > wi
}
