package securitytest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// SECURITY.md and the tests stay in step: every test the document cites
// exists in this package, and every test of this package is cited.
func TestSecurityDocCitesTests(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	cited := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bTest[A-Z][A-Za-z0-9]*`).FindAllString(string(doc), -1) {
		cited[m] = true
	}
	defined := map[string]bool{}
	fset := token.NewFileSet()
	pkgFiles, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range pkgFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") && fn.Name.Name != "TestMain" {
				defined[fn.Name.Name] = true
			}
		}
	}
	var missing, uncited []string
	for name := range cited {
		if !defined[name] {
			missing = append(missing, name)
		}
	}
	for name := range defined {
		if !cited[name] {
			uncited = append(uncited, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(uncited)
	if len(missing) > 0 {
		t.Errorf("SECURITY.md cites tests that do not exist: %v", missing)
	}
	if len(uncited) > 0 {
		t.Errorf("tests that SECURITY.md does not cite: %v", uncited)
	}
	if len(defined) < 30 {
		t.Errorf("only %d tests found", len(defined))
	}
}
