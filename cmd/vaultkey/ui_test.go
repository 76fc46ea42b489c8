package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"filippo.io/age"
	"github.com/charmbracelet/x/ansi"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/internal/vaulttest"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/transport"
	"github.com/authvault/authvault/usage"
	"github.com/authvault/authvault/vault"
)

// uiHarness drives the ui's model directly: keys and messages in,
// commands run by hand, the screen read from render.
type uiHarness struct {
	t     *testing.T
	dir   string
	id    *age.X25519Identity
	v     *vault.Vault
	clock *vaulttest.Clock
	m     *uiModel
}

func acmeID(label string) records.ID {
	return records.ID{Provider: "acme", Namespace: records.DefaultNamespace, Label: label}
}

func newUIHarness(t *testing.T, color bool, labels ...string) *uiHarness {
	t.Helper()
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	h := &uiHarness{t: t, dir: filepath.Join(t.TempDir(), "vault"), id: ident,
		clock: vaulttest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	v, err := vault.Create(context.Background(), h.dir, []age.Recipient{ident.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	h.v = h.open()
	for _, l := range labels {
		h.put(l, "canary-"+l+"-key-0000")
	}
	src := newUISource(h.v, pool.WithClock(h.clock.Now))
	t.Cleanup(func() { src.close() })
	h.m = newUIModel(context.Background(), src, h.dir, h.clock.Now, newUIStyles(color))
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	h.refresh()
	return h
}

// open opens the vault as another process would.
func (h *uiHarness) open() *vault.Vault {
	h.t.Helper()
	v, err := vault.Open(context.Background(), h.dir, []age.Identity{h.id})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { v.Close() })
	return v
}

func (h *uiHarness) put(label, key string) {
	h.t.Helper()
	id := acmeID(label)
	if _, err := h.v.Put(context.Background(), &records.Record{Provider: id.Provider, Namespace: id.Namespace, Label: id.Label,
		Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret(key)}}); err != nil {
		h.t.Fatal(err)
	}
}

// send gives msg to Update and returns its command, not run.
func (h *uiHarness) send(msg tea.Msg) tea.Cmd {
	h.t.Helper()
	m, cmd := h.m.Update(msg)
	if m != tea.Model(h.m) {
		h.t.Fatal("Update returned another model")
	}
	return cmd
}

func keyMsg(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// press sends keys; commands they return are not run.
func (h *uiHarness) press(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText types s into a prompt.
func (h *uiHarness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// act presses key, which must start an action (or a details read), runs
// it and the reading that follows, as the program would.
func (h *uiHarness) act(key string) {
	h.t.Helper()
	cmd := h.send(keyMsg(key))
	for cmd != nil {
		msg := cmd()
		switch msg.(type) {
		case uiActionMsg, uiLoadedMsg, uiDetailsMsg:
		default:
			h.t.Fatalf("key %q: command gave %T", key, msg)
		}
		cmd = h.send(msg)
	}
}

// refresh reads the shared state, as the ui's ticks do.
func (h *uiHarness) refresh() {
	h.t.Helper()
	h.send(uiLoadedMsg(h.m.src.load(context.Background())))
}

// screen is what the terminal shows, without styles.
func (h *uiHarness) screen() string { return ansi.Strip(h.m.render()) }

func (h *uiHarness) wantScreen(re string) {
	h.t.Helper()
	if !regexp.MustCompile(re).MatchString(h.screen()) {
		h.t.Fatalf("screen does not match %s:\n%s", re, h.screen())
	}
}

func (h *uiHarness) selected() string {
	a, _ := h.m.selected()
	return a.ID.Label
}

// accounts reads the pool from a fresh handle: what other processes see.
func (h *uiHarness) accounts() []pool.Account {
	h.t.Helper()
	p, err := pool.Open(context.Background(), h.open(), pool.Key{Provider: "acme", Namespace: "default"}, pool.WithClock(h.clock.Now))
	if err != nil {
		h.t.Fatal(err)
	}
	defer p.Close()
	accts, err := p.Accounts(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return accts
}

func (h *uiHarness) order() string {
	var labels []string
	for _, a := range h.accounts() {
		labels = append(labels, a.ID.Label)
	}
	return strings.Join(labels, ",")
}

func (h *uiHarness) account(label string) pool.Account {
	h.t.Helper()
	for _, a := range h.accounts() {
		if a.ID.Label == label {
			return a
		}
	}
	h.t.Fatalf("no account %s", label)
	return pool.Account{}
}

func TestUIMovesAndDisables(t *testing.T) {
	h := newUIHarness(t, true, "one", "two", "three")
	h.wantScreen(`acme/default · 3 accounts, 3 ready`)
	if h.selected() != "one" {
		t.Fatalf("selected %q", h.selected())
	}
	h.press("j", "down", "k")
	if h.selected() != "three" && h.selected() != "two" {
		t.Fatalf("selected %q", h.selected())
	}
	h.press("up", "up", "up") // stays at the top
	if h.selected() != "one" {
		t.Fatalf("selected %q after moving up past the top", h.selected())
	}
	h.press("j")
	second := h.selected()

	// d asks for a reason, then disables; d again enables.
	h.press("d")
	h.typeText("too slow")
	h.act("enter")
	if a := h.account(second); !a.Disabled || a.DisabledReason != "too slow" {
		t.Fatalf("after d: %+v", a)
	}
	h.wantScreen(`disabled acme/default/` + second)
	h.wantScreen(second + ` +API key disabled \(too slow\)`)
	h.act("d")
	if a := h.account(second); a.Disabled {
		t.Fatalf("after the second d: %+v", a)
	}
	h.wantScreen(`enabled acme/default/` + second)
	// A disable cancelled with esc changes nothing.
	h.press("d", "esc")
	if h.m.mode != modeList || h.account(second).Disabled {
		t.Fatal("esc did not cancel the disable")
	}

	// K and J move the account within its pool; the selection follows it.
	before := h.order()
	h.act("K")
	if got := h.order(); !strings.HasPrefix(got, second+",") || h.selected() != second {
		t.Fatalf("after K: order %s (was %s), selected %s", got, before, h.selected())
	}
	h.wantScreen(`moved acme/default/` + second + ` to position 1`)
	h.press("K")
	h.wantScreen(second + ` is already at the top of its pool`)
	h.act("J")
	if got := h.order(); got != before {
		t.Fatalf("after J: order %s, want %s", got, before)
	}
}

func TestUIRemovesAndAddsKeys(t *testing.T) {
	h := newUIHarness(t, true, "one", "two")
	ctx := context.Background()
	h.press("j")
	// x asks for the label; a wrong one removes nothing.
	h.press("x")
	h.typeText("one")
	h.press("enter")
	h.wantScreen(`not removed: the label typed was not two`)
	if _, err := h.open().Get(ctx, acmeID("two")); err != nil {
		t.Fatal(err)
	}
	h.press("x")
	h.typeText("two")
	h.act("enter")
	if _, err := h.open().Get(ctx, acmeID("two")); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("after x: %v", err)
	}
	h.wantScreen(`removed acme/default/two`)
	if strings.Contains(h.screen(), " two ") {
		t.Fatalf("two still listed:\n%s", h.screen())
	}

	// a asks for the ID (prefilled with the selected pool), then the key,
	// masked; the status line shows its last four characters at most.
	const key = "sk-canary-secret-9f8e7d6cWXYZ"
	h.press("a")
	h.wantScreen(`new API-key account \(provider/namespace/label\): acme/default/`)
	h.typeText("three")
	h.press("enter")
	h.typeText(key)
	if s := h.screen(); strings.Contains(s, key) || strings.Contains(s, "9f8e") || !strings.Contains(s, "API key for acme/default/three: •••") {
		t.Fatalf("the key prompt shows:\n%s", s)
	}
	h.act("enter")
	rec, err := h.open().Get(ctx, acmeID("three"))
	if err != nil || rec.Kind != records.KindAPI || rec.API.Key.Reveal() != key {
		t.Fatalf("added record: %v", err)
	}
	s := h.screen()
	if !strings.Contains(s, "added acme/default/three (api key …WXYZ)") || strings.Contains(s, "9f8e") {
		t.Fatalf("after adding:\n%s", s)
	}
	h.wantScreen(`three +API key ready`)

	// The same ID again: the vault's error on the status line, nothing lost.
	h.press("a", "esc", "a")
	h.typeText("three")
	h.press("enter")
	h.typeText("other-key")
	h.act("enter")
	h.wantScreen(`account acme/default/three already exists`)
	if h.m.mode != modeList || !h.m.statusErr {
		t.Fatalf("mode %d, error %v", h.m.mode, h.m.statusErr)
	}
	if rec, err := h.open().Get(ctx, acmeID("three")); err != nil || rec.API.Key.Reveal() != key {
		t.Fatalf("the existing key was replaced: %v", err)
	}
	// A key with a space is refused, as accounts add-key refuses it.
	h.press("a")
	h.typeText("four")
	h.press("enter")
	h.typeText("two words")
	h.act("enter")
	h.wantScreen(`white space`)
	// An invalid ID is refused before the key is asked for.
	h.press("a")
	h.typeText("x/y/z/w")
	h.press("enter")
	if h.m.mode != modeList || !h.m.statusErr {
		t.Fatalf("an invalid ID: mode %d, status %q", h.m.mode, h.m.status)
	}
}

func TestUIFilterHelpDetailsQuit(t *testing.T) {
	h := newUIHarness(t, true, "alpha", "beta", "gamma")
	h.press("/")
	h.typeText("amm")
	if len(h.m.rows) != 1 || h.selected() != "gamma" {
		t.Fatalf("filter: %d rows, selected %s", len(h.m.rows), h.selected())
	}
	h.press("enter")
	h.wantScreen(`filter: amm \(esc clears\)`)
	h.refresh() // a reading keeps the filter
	if len(h.m.rows) != 1 {
		t.Fatalf("after a refresh: %d rows", len(h.m.rows))
	}
	h.press("/")
	h.typeText("zzz")
	h.press("enter")
	h.wantScreen(`no account matches the filter "ammzzz"`)
	h.press("esc")
	if len(h.m.rows) != 3 {
		t.Fatalf("esc kept the filter: %d rows", len(h.m.rows))
	}

	h.press("?")
	h.wantScreen(`(?s)keys.*d +disable \(asks for a reason\) or enable.*q +quit`)
	h.press("j") // any key goes back, and does nothing else
	if h.m.mode != modeList || h.selected() != "gamma" {
		t.Fatalf("after help: mode %d, selected %s", h.m.mode, h.selected())
	}

	h.act("enter")
	h.wantScreen(`(?s)acme/default/gamma\n.*kind +API key.*position +3 of 3.*created +2026-`)
	if strings.Contains(h.screen(), "canary") {
		t.Fatalf("details show the key:\n%s", h.screen())
	}
	h.press("esc")
	if h.m.mode != modeList {
		t.Fatal("esc did not leave the details")
	}
	if cmd := h.send(keyMsg("q")); cmd == nil || cmd() != tea.Quit() {
		t.Fatal("q does not quit")
	}
	h.press("/")
	if cmd := h.send(keyMsg("ctrl+c")); cmd == nil || cmd() != tea.Quit() {
		t.Fatal("ctrl+c in a prompt does not quit")
	}
}

func TestUICountdownOnFakeClock(t *testing.T) {
	h := newUIHarness(t, true, "one", "two")
	// Another client on the vault meets a 429 with Retry-After 30.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer canary-one-key-0000" {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	a, err := bearer.New("acme")
	if err != nil {
		t.Fatal(err)
	}
	c, err := authvault.Open(context.Background(), "acme", authvault.WithVault(h.open()), authvault.WithAdapter(a), authvault.WithOrigins(srv.URL),
		authvault.WithPoolOptions(pool.WithClock(h.clock.Now)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.HTTP.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	h.send(uiTickMsg(h.clock.Now()))
	h.refresh()
	h.wantScreen(`one +API key cooling 30s \(rate_limited\)`)
	h.wantScreen(`12:00:00  acme/default  one cooling 30s \(429 rate_limited\)\n12:00:00  acme/default  one → two \(429 rate_limited\)`)
	h.wantScreen(`two +API key ready +just now +1 +0 +0`)
	h.clock.Advance(12 * time.Second)
	h.send(uiTickMsg(h.clock.Now()))
	h.refresh()
	h.wantScreen(`one +API key cooling 18s \(rate_limited\)`)
	h.wantScreen(`vaultkey ui · .* 12:00:12`)

	// enter shows the account's cooldown and its events.
	h.act("enter")
	h.wantScreen(`(?s)cooldown +all models: rate-limited, 18s left \(429 rate_limited, step 1\).*recent events.*one cooling 30s.*one → two`)
	h.press("esc")

	// r resets it for every process.
	h.act("r")
	if a := h.account("one"); a.Availability != pool.Ready {
		t.Fatalf("after r: %+v", a)
	}
	h.wantScreen(`one +API key ready`)

	// Without a reset, the countdown runs out on its own.
	h.clock.Advance(40 * time.Second)
	h.refresh()
	h.wantScreen(`one +API key ready`)
}

func TestUIResizes(t *testing.T) {
	labels := []string{"a-first-account-with-a-very-long-label@example.com"}
	for i := range 30 {
		labels = append(labels, "acct"+string(rune('a'+i%26))+strings.Repeat("x", i))
	}
	h := newUIHarness(t, true, labels...)
	for _, size := range [][2]int{{80, 24}, {100, 30}, {200, 60}, {81, 25}, {40, 12}, {80, 24}} {
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, mode := range []string{"list", "help", "details"} {
			switch mode {
			case "help":
				h.press("?")
			case "details":
				h.act("enter")
			}
			lines := strings.Split(h.m.render(), "\n")
			if len(lines) != size[1] {
				t.Fatalf("%dx%d %s: %d lines", size[0], size[1], mode, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Fatalf("%dx%d %s: line %d is %d wide: %q", size[0], size[1], mode, i, w, ansi.Strip(l))
				}
			}
			h.press("esc")
		}
	}
	// The selection stays on screen however far down it goes.
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.press("G")
	last, _ := h.m.selected()
	if !strings.Contains(h.screen(), last.ID.Label[:min(len(last.ID.Label), 10)]) || last.Position != len(labels)-1 {
		t.Fatalf("selected %s at %d not on screen:\n%s", last.ID.Label, last.Position, h.screen())
	}
	h.wantScreen(`── events ─`)
}

func TestUINoColor(t *testing.T) {
	sgrColor := regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m`)
	for _, color := range []bool{true, false} {
		h := newUIHarness(t, color, "one", "two")
		h.press("j", "d")
		h.typeText("off")
		h.act("enter")
		got := sgrColor.MatchString(h.m.render())
		if got != color {
			t.Fatalf("color %v: the screen has color codes: %v\n%q", color, got, h.m.render())
		}
		if !strings.Contains(h.m.render(), "\x1b[7m") {
			t.Fatal("the selection is not in reverse video")
		}
	}
}

func TestUILogin(t *testing.T) {
	h := newUIHarness(t, true, "one")
	release := make(chan struct{})
	var got [3]string
	h.m.login = func(ctx context.Context, key pool.Key, client, label string, out func(string)) (string, error) {
		got = [3]string{key.String(), client, label}
		out("Open this URL to sign in: https://auth.example/authorize?client_id=x&state=y")
		select {
		case <-release:
			return "logged in: acme/default/me@example.com", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	run := func(cmd tea.Cmd) tea.Cmd { return h.send(cmd()) }
	start := func() tea.Cmd {
		h.press("l")
		h.wantScreen(`acme login; OAuth client \(a client id\): `)
		h.typeText("my-client")
		h.press("enter")
		h.wantScreen(`label \(enter: the account's email\): `)
		return h.send(keyMsg("enter"))
	}
	cmd := start()
	if h.m.mode != modeLogin {
		t.Fatalf("mode %d", h.m.mode)
	}
	cmd = run(cmd) // the URL line
	h.wantScreen(`(?s)acme login: follow the steps below; esc cancels.*Open this URL to sign in: https://auth.example/authorize\?client_id=x&state=y.*waiting…`)
	if got != [3]string{"acme/default", "my-client", ""} {
		t.Fatalf("login called with %q", got)
	}
	close(release)
	if cmd = run(cmd); cmd == nil {
		t.Fatal("a finished login reads the vault again")
	}
	h.wantScreen(`logged in: acme/default/me@example.com`)
	if h.m.mode != modeList {
		t.Fatalf("mode %d after the login", h.m.mode)
	}

	// esc cancels a login in progress; its error shows.
	release = make(chan struct{})
	cmd = run(start())
	h.press("esc")
	run(cmd)
	h.wantScreen(`context canceled`)
	if h.m.mode != modeList {
		t.Fatalf("mode %d after cancelling", h.m.mode)
	}
}

func TestUINeedsATerminal(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.initFile()
	r := s.run(2, "ui")
	if !strings.Contains(r.stderr, "accounts list --json") || !strings.Contains(r.stderr, "accounts events --follow") {
		t.Fatalf("ui without a terminal:\n%s", r)
	}
}

func TestUILoginRunsTheLoginCommand(t *testing.T) {
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(string) string { return "" }, dir: filepath.Join(t.TempDir(), "none"), keys: &vaultKeys{Getenv: func(string) string { return "" }}}
	var lines []string
	out := func(s string) { lines = append(lines, s) }
	for _, tc := range []struct{ provider, namespace, client, label, want string }{
		{"cursor", "default", "x", "", "cursor accounts use API keys"},
		{"acme", "default", "x", "", `no login for "acme"`},
		{"qwen", "default", "qwen-code", "", "--label is required"},
		{"anthropic", "default", "claude-code", "", "no vault"}, // a preset: the flow goes on to the vault
		{"anthropic", "work", "my-own-client-id", "me", "no vault"},
		{"copilot", "octocorp.ghe.com", "github-copilot", "me", "no vault"}, // the host is --enterprise
		{"copilot", "not a host", "github-copilot", "me", `--enterprise "not a host" is not a GitHub host name`},
	} {
		_, err := e.uiLogin(context.Background(), pool.Key{Provider: tc.provider, Namespace: tc.namespace}, tc.client, tc.label, out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s login with %s: %v, want %q", tc.provider, tc.client, err, tc.want)
		}
	}

	lines = nil
	w := &lineWriter{out: out}
	io.WriteString(w, "first\r\nsec")
	io.WriteString(w, "ond\n\nthird")
	w.flush()
	if strings.Join(lines, "|") != "first|second|third" {
		t.Fatalf("lines %q", lines)
	}
}

func TestUIDetailsShowTheOrigins(t *testing.T) {
	h := newUIHarness(t, false, "plain")
	id := acmeID("proxied")
	if _, err := h.v.Put(context.Background(), &records.Record{Provider: id.Provider, Namespace: id.Namespace, Label: id.Label,
		Kind: records.KindAPI, API: &records.APIKey{Key: "canary-proxied-key"},
		Meta: map[string]string{adapters.MetaBaseURL: "https://llm.example/v1"}}); err != nil {
		t.Fatal(err)
	}
	oid := records.ID{Provider: "openai", Namespace: "default", Label: "work"}
	if _, err := h.v.Put(context.Background(), &records.Record{Provider: oid.Provider, Namespace: oid.Namespace, Label: oid.Label,
		Kind: records.KindAPI, API: &records.APIKey{Key: "canary-openai-key"}}); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	want := map[string]string{
		"proxied": `origins +https://llm.example\n`,
		"plain":   `origins +none \(the account names no base URL\)`,
		"work":    `origins +https://api.openai.com`,
	}
	for range 3 {
		label := h.selected()
		re, ok := want[label]
		if !ok {
			t.Fatalf("selected %q twice", label)
		}
		delete(want, label)
		h.act("enter")
		h.wantScreen(re)
		if s := h.screen(); strings.Contains(s, "canary") {
			t.Fatalf("details show a secret:\n%s", s)
		}
		h.press("esc", "j")
	}
}

func TestUIShowsAReadingProblemUntilItGoes(t *testing.T) {
	h := newUIHarness(t, false, "one")
	ctx := context.Background()
	if _, err := h.v.UpdateState(ctx, eventlog.StateName, func([]byte) ([]byte, error) { return []byte("{"), nil }); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	h.wantScreen(`(?m)^reading the event log: eventlog: corrupt event log`)
	h.wantScreen(`one +API key +ready`) // the accounts are still shown
	// A program's next event starts the log afresh.
	l := eventlog.New(h.open(), pool.Key{Provider: "acme", Namespace: "default"})
	l.Observe(transport.Event{Kind: transport.EventRefresh, Time: h.clock.Now(), Account: acmeID("one")})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	if strings.Contains(h.screen(), "corrupt") || h.m.statusErr {
		t.Fatalf("the problem is still shown:\n%s", h.screen())
	}
	h.wantScreen(`12:00:00  acme/default  one token refreshed`)
}

func TestUIState(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		a    pool.Account
		want string
	}{
		{pool.Account{Availability: pool.Ready}, "ready"},
		{pool.Account{Availability: pool.Ready, Cooldowns: []pool.Cooldown{{Model: "big", Until: now.Add(time.Minute)}}}, "ready (1 model cooling)"},
		{pool.Account{Availability: pool.Cooling, Until: now.Add(90 * time.Second), Cooldowns: []pool.Cooldown{{Kind: pool.QuotaExhausted, Until: now.Add(90 * time.Second)}}}, "cooling 1m30s (quota-exhausted)"},
		{pool.Account{Availability: pool.Cooling, Until: now.Add(5 * time.Second), Cooldowns: []pool.Cooldown{{Kind: pool.RateLimited, Reason: "rate_limit_error", Until: now.Add(5 * time.Second)}}}, "cooling 5s (rate_limit_error)"},
		{pool.Account{Availability: pool.Cooling, Until: now.Add(-time.Second)}, "ready"},
		{pool.Account{Availability: pool.Disabled, DisabledReason: "card expired"}, "disabled (card expired)"},
		{pool.Account{Availability: pool.ReauthNeeded, ReauthReason: "invalid_grant"}, "needs re-auth (invalid_grant)"},
		{pool.Account{Availability: pool.Unreadable, Unreadable: "tampered"}, "unreadable (tampered)"},
		{pool.Account{Availability: pool.Availability(99)}, "Availability(99)"},
	} {
		if got := uiState(tc.a, now); got != tc.want {
			t.Errorf("uiState(%+v) = %q, want %q", tc.a, got, tc.want)
		}
	}
}

func TestUIShowsGatewayUsage(t *testing.T) {
	h := newUIHarness(t, false, "one", "two")
	blob := `{"v":1,"accounts":{"acme/default/one":{"requests":3,"input_tokens":1200,"output_tokens":34000,` +
		`"rate_limit":{"seen":"2026-03-01T11:59:50Z","headers":{"anthropic-ratelimit-requests-remaining":"59","anthropic-ratelimit-requests-limit":"60"}}}},"clients":{}}`
	if _, err := h.v.UpdateState(context.Background(), usage.StateName, func([]byte) ([]byte, error) { return []byte(blob), nil }); err != nil {
		t.Fatal(err)
	}
	h.refresh()
	h.wantScreen(`TOKENS`)
	h.wantScreen(`one +API key +ready .* 35\.2k\n`)
	h.wantScreen(`two +API key +ready .* -\n`)
	h.act("enter")
	h.wantScreen(`gateways +3 requests, 1200 tokens in, 34000 out`)
	h.wantScreen(`quota left +requests 59/60 \(seen 10s ago\)`)
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1.0k", 99_949: "99.9k", 100_000: "100k", 3_400_000: "3.4M"} {
		if got := tokens(&usage.Account{Counts: usage.Counts{InputTokens: n}}); got != want {
			t.Errorf("tokens(%d) = %q, want %q", n, got, want)
		}
	}
}
