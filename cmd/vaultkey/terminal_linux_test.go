package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/sys/unix"
)

// The tests in this file need a terminal: they run vaultkey and age on a
// Linux pseudo-terminal.

// openPTY returns a new pseudo-terminal: the controller side, and the
// terminal side to hand to a process as a standard stream.
func openPTY(t *testing.T) (controller, terminal *os.File) {
	t.Helper()
	controller, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(controller.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		controller.Close()
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		controller.Close()
		t.Fatalf("naming the pty: %v", err)
	}
	terminal, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		controller.Close()
		t.Fatalf("opening the pty: %v", err)
	}
	t.Cleanup(func() {
		terminal.Close()
		controller.Close()
	})
	return controller, terminal
}

// TestExportPassphraseAgeCLI decrypts a passphrase backup with the stock
// age command, which reads the passphrase from its terminal: it runs on a
// pseudo-terminal.
func TestExportPassphraseAgeCLI(t *testing.T) {
	t.Parallel()
	ageBin := ageBinary(t)
	controller, terminal := openPTY(t)
	s := exportSandbox(t)
	const pass = "tr0ub4dor&3 but longer"
	out := filepath.Join(s.root, "backup.age")
	if r := s.runWith(runOpts{env: map[string]string{"AUTHVAULT_PASSPHRASE": pass}}, "export", "--passphrase", "-o", out); r.code != 0 {
		t.Fatal(r)
	}
	cmd := exec.Command(ageBin, "-d", out)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = terminal, &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, controller) // the prompt
	controller.Write([]byte(pass + "\n"))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("age -d with the passphrase: %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("age -d did not finish")
	}
	if b := parseBundleJSON(t, stdout.Bytes()); len(b.Records) != 2 {
		t.Errorf("%d records", len(b.Records))
	}
}

func TestExportRefusesTerminal(t *testing.T) {
	t.Parallel()
	_, terminal := openPTY(t)
	s := exportSandbox(t)
	_, recipient, _ := x25519(t, s.root)
	cmd := exec.Command(vaultkeyBin, "export", "-r", recipient)
	cmd.Env = s.environ()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = terminal, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("export to a terminal: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "refusing to write a backup to the terminal") {
		t.Errorf("stderr: %s", stderr.String())
	}
	s.record("export (terminal)", result{stderr: stderr.String()}, false)
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitNoEcho waits until the terminal's echo is off: the process is then
// reading a secret, and what is typed is not shown.
func waitNoEcho(t *testing.T, controller *os.File, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		tio, err := unix.IoctlGetTermios(int(controller.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatalf("reading the terminal's mode: %v", err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("the process ended before asking: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatal("the terminal's echo was never turned off")
}

// onTerminal is vaultkey running with its standard input on a terminal.
type onTerminal struct {
	cmd            *exec.Cmd
	controller     *os.File
	stdout, stderr syncBuffer
	echoed         syncBuffer // what the terminal showed
	done           chan error // the process's end
}

// startOnTerminal starts vaultkey args in s, reading from terminal.
func startOnTerminal(t *testing.T, s *sandbox, controller, terminal *os.File, args ...string) *onTerminal {
	t.Helper()
	p := &onTerminal{cmd: exec.Command(vaultkeyBin, args...), controller: controller, done: make(chan error, 1)}
	p.cmd.Env = s.environ()
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = terminal, &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	go io.Copy(&p.echoed, controller)
	return p
}

// typeSecret types secret once the process has turned echo off.
func (p *onTerminal) typeSecret(t *testing.T, secret string) {
	t.Helper()
	waitNoEcho(t, p.controller, p.done)
	p.controller.Write([]byte(secret + "\n"))
}

// typePassphraseTwice answers a passphrase prompt and its confirmation.
// The confirmation prompt comes once the first answer was read (and echo
// restored); then echo goes off again for the second.
func (p *onTerminal) typePassphraseTwice(t *testing.T, pass string) {
	t.Helper()
	p.typeSecret(t, pass)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.stderr.String(), "Confirm passphrase") {
		if time.Now().After(deadline) {
			t.Fatalf("no confirmation prompt: %q", p.stderr.String())
		}
		select {
		case err := <-p.done:
			t.Fatalf("ended before confirming: %v\n%s", err, p.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	p.typeSecret(t, pass)
}

func TestAddKeyFromTerminalPrompt(t *testing.T) {
	t.Parallel()
	controller, terminal := openPTY(t)
	s := newSandbox(t)
	s.initFile()
	const key = "sk-canary-typed-on-a-terminal"
	s.addSecret(key)

	p := startOnTerminal(t, s, controller, terminal, "accounts", "add-key", "openai", "--label", "typed")
	p.typeSecret(t, key)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("add-key: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		t.Fatal("add-key did not finish")
	}
	s.record("accounts add-key (terminal)", result{stdout: p.stdout.String(), stderr: p.stderr.String()}, false)
	if !strings.Contains(p.stderr.String(), "API key for openai/default/typed: ") {
		t.Errorf("no prompt on stderr: %q", p.stderr.String())
	}
	if strings.Contains(p.echoed.String(), key) {
		t.Error("the key was echoed on the terminal")
	}
	v := openVault(t, s.dir, s.identitiesFromFile())
	got := allRecords(t, v)
	if len(got) != 1 || got[0].API.Key.Reveal() != key {
		t.Error("the typed key was not stored")
	}
}

func TestExportPassphrasePrompt(t *testing.T) {
	t.Parallel()
	controller, terminal := openPTY(t)
	s := exportSandbox(t)
	const pass = "typed passphrase, twice"
	out := filepath.Join(s.root, "typed.age")
	p := startOnTerminal(t, s, controller, terminal, "export", "--passphrase", "-o", out)
	p.typePassphraseTwice(t, pass)
	if err := <-p.done; err != nil {
		t.Fatalf("export --passphrase: %v\n%s", err, p.stderr.String())
	}
	s.record("export --passphrase (terminal)", result{stderr: p.stderr.String()}, false)
	raw, _ := os.ReadFile(out)
	id, _ := age.NewScryptIdentity(pass)
	if b := parseBundleJSON(t, decryptWith(t, raw, id)); len(b.Records) != 2 {
		t.Errorf("%d records", len(b.Records))
	}
}

// init --passphrase on a terminal asks twice, without echo.
func TestInitPassphrasePrompt(t *testing.T) {
	t.Parallel()
	controller, terminal := openPTY(t)
	s := newSandbox(t)
	const pass = "typed at init, twice"
	s.addSecret(pass)
	p := startOnTerminal(t, s, controller, terminal, "init", "--passphrase")
	p.typePassphraseTwice(t, pass)
	if err := <-p.done; err != nil {
		t.Fatalf("init --passphrase: %v\n%s", err, p.stderr.String())
	}
	s.record("init --passphrase (terminal)", result{stdout: p.stdout.String(), stderr: p.stderr.String()}, false)
	if strings.Contains(p.echoed.String(), pass) {
		t.Error("the passphrase was echoed on the terminal")
	}
	checkPassphraseKeyFile(t, s, pass)
}
