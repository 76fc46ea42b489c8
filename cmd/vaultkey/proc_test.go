package main

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// proc is a vaultkey process that the test talks to while it runs:
// reading its standard error line by line, writing its standard input.
type proc struct {
	s      *sandbox
	args   []string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout bytes.Buffer
	lines  chan string
	read   chan struct{} // closed when stderr reached EOF

	mu     sync.Mutex
	stderr strings.Builder
}

// start runs vaultkey with args in the background.
func (s *sandbox) start(args ...string) *proc {
	s.t.Helper()
	p := &proc{s: s, args: args, lines: make(chan string, 1024), read: make(chan struct{})}
	p.cmd = exec.Command(vaultkeyBin, args...)
	p.cmd.Env = s.environ()
	p.cmd.Dir = s.root
	p.cmd.Stdout = &p.stdout
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		s.t.Fatal(err)
	}
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() {
		defer close(p.read)
		defer close(p.lines)
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for lines this far on
			}
		}
	}()
	s.t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// waitLine returns the submatches of the first line of standard error,
// from the ones not seen yet, that matches re.
func (p *proc) waitLine(re *regexp.Regexp) []string {
	p.s.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.s.t.Fatalf("vaultkey %s ended before printing a line matching %s:\n%s", strings.Join(p.args, " "), re, p.errText())
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			p.s.t.Fatalf("vaultkey %s printed no line matching %s:\n%s", strings.Join(p.args, " "), re, p.errText())
		}
	}
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// wait closes standard input, waits for the exit and checks its status.
func (p *proc) wait(want int) result {
	p.s.t.Helper()
	p.stdin.Close()
	done := make(chan error, 1)
	go func() {
		<-p.read
		done <- p.cmd.Wait()
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		p.s.t.Fatalf("vaultkey %s did not end:\n%s", strings.Join(p.args, " "), p.errText())
	}
	r := result{code: p.s.exitCode(p.args, err), stdout: p.stdout.String(), stderr: p.errText()}
	p.s.record(strings.Join(p.args, " "), r, false)
	if r.code != want {
		p.s.t.Fatalf("vaultkey %s: want exit %d, got %s", strings.Join(p.args, " "), want, r)
	}
	return r
}
