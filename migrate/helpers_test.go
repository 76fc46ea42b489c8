package migrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authvault/authvault/records"
)

// Every token in testdata and in the tests' inline documents contains
// "CANARY"; JWTs carry it in their signature and start with "eyJ". Neither
// may ever show up in an error.
func assertNoSecrets(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(s, "CANARY") || strings.Contains(s, "eyJ") {
			t.Errorf("error text leaks a token: %q", s)
		}
	}
}

func problemTexts(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeFile writes data at dir/name, creating directories.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// homeWithAll lays out every fixture where the sources look for it under
// a fresh home directory, with the default (unset) XDG and CODEX_HOME.
func homeWithAll(t *testing.T) (Env, map[string]string) {
	t.Helper()
	home := t.TempDir()
	paths := map[string]string{
		"opencode":    writeFile(t, home, ".local/share/opencode/auth.json", fixture(t, "opencode/auth.json")),
		"claude-code": writeFile(t, home, ".claude/.credentials.json", fixture(t, "claude-code/.credentials.json")),
		"codex":       writeFile(t, home, ".codex/auth.json", fixture(t, "codex/auth.json")),
		"gemini-cli":  writeFile(t, home, ".gemini/oauth_creds.json", fixture(t, "gemini-cli/oauth_creds.json")),
		"qwen-code":   writeFile(t, home, ".qwen/oauth_creds.json", fixture(t, "qwen-code/oauth_creds.json")),
		"copilot-apps": writeFile(t, home, ".config/github-copilot/apps.json",
			fixture(t, "copilot/apps.json")),
		"copilot-hosts": writeFile(t, home, ".config/github-copilot/hosts.json",
			fixture(t, "copilot/hosts.json")),
	}
	// A fixed modification time keeps plans deterministic.
	for _, p := range paths {
		if err := os.Chtimes(p, fileTime, fileTime); err != nil {
			t.Fatal(err)
		}
	}
	return Env{Home: home}, paths
}

var fileTime = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// memTarget is an in-memory store that behaves like the vault: one
// generation per commit, Created kept, Updated set from its clock, list
// order by provider, namespace, label.
type memTarget struct {
	recs    map[records.ID]*records.Record
	gen     uint64
	now     time.Time
	commits int
	reads   int
	// failCommit, when set, is returned after fn ran, and nothing is
	// committed (a failed manifest write).
	failCommit error
	// beforeCommit runs at the start of Commit, before fn: another
	// process changing the vault.
	beforeCommit func(m *memTarget)
}

func newMemTarget(recs ...*records.Record) *memTarget {
	m := &memTarget{recs: map[records.ID]*records.Record{}, now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	for _, r := range recs {
		m.put(r)
	}
	return m
}

func (m *memTarget) put(r *records.Record) {
	c := r.Clone()
	m.gen++
	if old := m.recs[c.ID()]; old != nil && c.Created.IsZero() {
		c.Created = old.Created
	}
	if c.Created.IsZero() {
		c.Created = m.now
	}
	if c.Updated.IsZero() {
		c.Updated = m.now
	}
	c.Generation = m.gen
	m.recs[c.ID()] = c
}

func (m *memTarget) list(provider string, recs map[records.ID]*records.Record) []*records.Record {
	var out []*records.Record
	for _, r := range recs {
		if provider == "" || r.Provider == provider {
			out = append(out, r.Clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID().String() < out[j].ID().String() })
	return out
}

func (m *memTarget) Records(ctx context.Context, provider string) ([]*records.Record, error) {
	m.reads++
	return m.list(provider, m.recs), ctx.Err()
}

func (m *memTarget) all() []*records.Record { return m.list("", m.recs) }

func (m *memTarget) Commit(ctx context.Context, fn func(txn) error) error {
	if m.beforeCommit != nil {
		m.beforeCommit(m)
	}
	tx := &memTxn{m: m, staged: map[records.ID]*records.Record{}}
	for id, r := range m.recs {
		tx.staged[id] = r
	}
	if err := fn(tx); err != nil {
		return err
	}
	if m.failCommit != nil {
		return m.failCommit
	}
	if len(tx.puts) == 0 {
		return nil
	}
	m.commits++
	m.gen++
	for _, r := range tx.puts {
		c := r.Clone()
		if old := m.recs[c.ID()]; old != nil {
			c.Created = old.Created
		} else {
			c.Created = m.now
		}
		c.Updated = m.now
		c.Generation = m.gen
		m.recs[c.ID()] = c
	}
	return nil
}

type memTxn struct {
	m      *memTarget
	staged map[records.ID]*records.Record
	puts   []*records.Record
}

func (tx *memTxn) Records(provider string) ([]*records.Record, error) {
	return tx.m.list(provider, tx.staged), nil
}

func (tx *memTxn) Put(r *records.Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	tx.staged[r.ID()] = r.Clone()
	tx.puts = append(tx.puts, r.Clone())
	return nil
}

var errCommit = errors.New("manifest write failed")
