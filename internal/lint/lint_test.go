// Package lint holds tests that keep the code base's shape: which package
// may import which (dependencies point one way, along the data flow).
package lint

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/loglake/loglake"

// allowed lists, for each library package, the loglake packages its
// non-test files may import. The flow is ingest → compact → query, with
// projection beside compact; each stage imports only the root, internal
// packages and stages to its left. Packages not listed (examples, cmd,
// internal) may import anything of the module.
var allowed = map[string][]string{
	"":           {},
	"ingest":     {""},
	"projection": {""},
	"compact":    {""},
	"query":      {"", "projection", "compact"},
}

// forbidden are imports no package of the main module may have: the library
// stays pure Go and free of test-time servers.
var forbidden = []string{
	"github.com/minio/",
	"github.com/duckdb/",
	"github.com/marcboeker/go-duckdb",
	"C",
}

func TestForbiddenImports(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]map[string]bool{} // package dir (relative) → imports
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module (bench/, interop/)
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		if pkgs[rel] == nil {
			pkgs[rel] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			pkgs[rel][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) == 0 {
		t.Fatal("found no packages")
	}
	dirs := make([]string, 0, len(pkgs))
	for d := range pkgs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		for imp := range pkgs[dir] {
			for _, f := range forbidden {
				if imp == f || strings.HasPrefix(imp, f) && strings.HasSuffix(f, "/") {
					t.Errorf("%s imports %s: the main module must not depend on it", pkgName(dir), imp)
				}
			}
			if !strings.HasPrefix(imp, module) {
				continue
			}
			target := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
			if strings.HasPrefix(target, "internal/") {
				continue
			}
			top := strings.SplitN(dir, "/", 2)[0]
			ok, listed := allowed[dir]
			if !listed {
				if _, stage := allowed[top]; stage && top != "" {
					ok = allowed[top] // a stage's subpackage follows its stage's rule
					listed = true
				}
			}
			if !listed {
				continue
			}
			if !contains(ok, target) && !strings.HasPrefix(target, top+"/") {
				t.Errorf("%s imports %s: against the one-way dependency rule (may import %q)", pkgName(dir), imp, ok)
			}
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func pkgName(dir string) string {
	if dir == "" {
		return module
	}
	return module + "/" + dir
}
