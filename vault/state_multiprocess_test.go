package vault

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authvault/authvault/records"
)

var counterID = records.ID{Provider: "test", Namespace: "default", Label: "counter"}

func init() {
	// Increment the state blob "counter" and the record counterID's
	// "count" AUTHVAULT_VAULT_N times each.
	extraHelpers["bothincrement"] = func(v *Vault) error {
		ctx := context.Background()
		n, _ := strconv.Atoi(os.Getenv("AUTHVAULT_VAULT_N"))
		for i := 0; i < n; i++ {
			if _, err := v.UpdateState(ctx, "counter", func(old []byte) ([]byte, error) {
				c, err := stateCount(old)
				if err != nil {
					return nil, err
				}
				return counterState(c + 1), nil
			}); err != nil {
				return err
			}
			if _, err := v.Update(ctx, counterID, func(r *records.Record) error {
				c, err := strconv.Atoi(r.Meta["count"])
				if err != nil {
					return err
				}
				r.Meta["count"] = strconv.Itoa(c + 1)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}
	// Read both counters as fast as possible until the file
	// AUTHVAULT_VAULT_STOP exists; they must never fail nor go back. Then
	// print what a last read of each sees.
	extraHelpers["bothread"] = func(v *Vault) error {
		ctx := context.Background()
		stop := os.Getenv("AUTHVAULT_VAULT_STOP")
		lastState, lastRec, reads := 0, 0, 0
		if err := os.WriteFile(os.Getenv("AUTHVAULT_VAULT_READY"), nil, 0o600); err != nil {
			return err
		}
		read := func() (int, int, error) {
			b, _, err := v.ReadState(ctx, "counter")
			if err != nil {
				return 0, 0, fmt.Errorf("ReadState after %d reads: %w", reads, err)
			}
			s, err := stateCount(b)
			if err != nil {
				return 0, 0, err
			}
			r, err := v.Get(ctx, counterID)
			if err != nil {
				return 0, 0, fmt.Errorf("Get after %d reads: %w", reads, err)
			}
			c, _ := strconv.Atoi(r.Meta["count"])
			return s, c, nil
		}
		for {
			if _, err := os.Stat(stop); err == nil {
				break
			}
			s, c, err := read()
			if err != nil {
				return err
			}
			if s < lastState || c < lastRec {
				return fmt.Errorf("went back: state %d after %d, record %d after %d", s, lastState, c, lastRec)
			}
			lastState, lastRec = s, c
			reads++
		}
		s, c, err := read()
		if err != nil {
			return err
		}
		fmt.Printf("%d %d %d\n", s, c, reads)
		return nil
	}
}

// counterState is the state blob holding count c, padded to a length
// that changes from one count to the next, so that a read of a blob
// half rewritten in place would mix two lengths.
func counterState(c int) []byte {
	return []byte(strconv.Itoa(c) + " " + strings.Repeat("x", c*997%4000))
}

func stateCount(b []byte) (int, error) {
	f, pad, _ := strings.Cut(string(b), " ")
	c, err := strconv.Atoi(f)
	if err != nil || len(pad) != c*997%4000 {
		return 0, fmt.Errorf("state %.40q… (%d bytes) is not a counter", b, len(b))
	}
	return c, nil
}

// Processes rewrite a state blob in place, its length changing every
// time, and a record, while others read both on their hot paths: no
// increment is lost, no reader ever fails, sees a torn blob or a value
// go back, and once the writers are done a reader's next read sees the
// last value at once.
func TestMultiProcessStateInPlace(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const writers, readers, n = 4, 2, 40
	ctx := context.Background()
	tv := newTestVault(t)
	counter := apiRecord("test", "counter", "k")
	counter.Meta = map[string]string{"count": "0"}
	mustPut(t, tv.Vault, counter)
	if _, err := tv.UpdateState(ctx, "counter", func([]byte) ([]byte, error) { return counterState(0), nil }); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	stop := filepath.Join(tmp, "stop")
	var outs []*bytes.Buffer
	var cmds []*exec.Cmd
	var ready []string
	for r := 0; r < readers; r++ {
		ready = append(ready, filepath.Join(tmp, "ready"+strconv.Itoa(r)))
		cmd := helperCmd(t, tv, "bothread", "AUTHVAULT_VAULT_STOP="+stop, "AUTHVAULT_VAULT_READY="+ready[r])
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	// The readers are reading before the writers start.
	for _, f := range ready {
		for deadline := time.Now().Add(time.Minute); ; {
			if _, err := os.Stat(f); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a reader did not start")
			}
			time.Sleep(time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			cmd := helperCmd(t, tv, "bothincrement", "AUTHVAULT_VAULT_N="+strconv.Itoa(n), "AUTHVAULT_VAULT_WORKER="+strconv.Itoa(w))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("writer %d: %v: %s", w, err, out)
			}
		}(w)
	}
	wg.Wait()
	if err := os.WriteFile(stop, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d %d ", writers*n, writers*n)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("reader %d: %v: %s", i, err, outs[i])
			continue
		}
		if got := outs[i].String(); !strings.HasPrefix(got, want) {
			t.Errorf("reader %d's last read: %q, want %q…", i, got, want)
		} else {
			t.Logf("reader %d: %s reads", i, strings.Fields(got)[2])
		}
	}
	data, _, err := tv.ReadState(ctx, "counter")
	if c, cerr := stateCount(data); err != nil || cerr != nil || c != writers*n {
		t.Errorf("state: %v, %v; want %d", err, cerr, writers*n)
	}
}
