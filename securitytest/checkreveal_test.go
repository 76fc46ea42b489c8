//go:build unix

package securitytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkReveal runs .ci/check-reveal on dir and returns its exit code and
// output.
func checkReveal(t *testing.T, dir string) (int, string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", ".ci", "check-reveal"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", script, dir).CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatal(err)
	}
	return 0, string(out)
}

// .ci/check-reveal, run by CI, fails on any call that formats, logs,
// wraps or panics with a revealed secret, however it is written; it
// accepts the legitimate uses; and the repository passes it.
func TestCheckRevealCatchesPlanted(t *testing.T) {
	planted := map[string]string{
		"one line":          `log.Printf("token %s", rec.OAuth.Access.Reveal())`,
		"nested and split":  "err := fmt.Errorf(\"%s: %s\",\n\t\tid.String(),\n\t\ttok.Reveal())",
		"slog attribute":    `slog.Info("refreshed", slog.String("token", tok.Reveal()))`,
		"logger method":     `logger.Debug("refreshed", "token", strings.TrimSpace(tok.Reveal()))`,
		"panic":             `panic("bad token " + tok.Reveal())`,
		"errors.New":        `return errors.New("bad token " + tok.Reveal())`,
		"Fprintf to stderr": `fmt.Fprintf(os.Stderr, "%s\n", key.Reveal())`,
		"wrapped in a call": `log.Println(strings.ToUpper(fmt.Sprint(tok.Reveal())))`,
	}
	for name, stmt := range planted {
		dir := t.TempDir()
		file := filepath.Join(dir, "pkg", "leak.go")
		os.MkdirAll(filepath.Dir(file), 0o700)
		os.WriteFile(file, []byte("package pkg\n\nfunc f() {\n\t// a comment with ( in it\n\t"+stmt+"\n}\n"), 0o600)
		code, out := checkReveal(t, dir)
		if code != 1 || !strings.Contains(out, file+":5:") {
			t.Errorf("%s: exit %d, want 1 naming %s:5:\n%s", name, code, file, out)
		}
	}

	allowed := []string{
		`req.Header.Set("Authorization", "Bearer "+rec.OAuth.Access.Reveal())`,
		`fmt.Printf("keys match: %v\n", got.API.Key.Reveal() == rec.API.Key.Reveal())`,
		`fmt.Printf("%d bytes\n", len(k.Reveal()))`,
		`fmt.Println("only the codec calls .Reveal()", ')') // tok.Reveal()`,
		`log.Printf("refreshed %s", rec.ID()) /* tok.Reveal() */`,
		"s := `fmt.Println(x.Reveal())`",
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.go"), []byte("package pkg\n\nfunc f() {\n\t"+strings.Join(allowed, "\n\t")+"\n}\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "ok_test.go"), []byte("package pkg\n\nfunc g() { log.Print(tok.Reveal()) }\n"), 0o600)
	if code, out := checkReveal(t, dir); code != 0 {
		t.Errorf("legitimate uses flagged: exit %d\n%s", code, out)
	}

	if code, out := checkReveal(t, filepath.Join(t.TempDir(), "missing")); code != 2 {
		t.Errorf("a missing directory: exit %d, want 2\n%s", code, out)
	}
	if code, out := checkReveal(t, ".."); code != 0 {
		t.Errorf("the repository fails check-reveal:\n%s", out)
	}
}
