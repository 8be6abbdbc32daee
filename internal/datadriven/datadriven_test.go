package datadriven

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func echo(t *testing.T, d *TestData) string {
	out := d.Input
	if _, ok := d.Arg("upper"); ok {
		out = strings.ToUpper(out)
	}
	if a, ok := d.Arg("n"); ok {
		out += fmt.Sprint(" ", a.Vals)
	}
	return out
}

func TestEcho(t *testing.T) { Walk(t, "testdata", echo) }

func TestRewrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "case")
	if err := os.WriteFile(p, []byte("# c\necho\nx\n----\nwrong\n\necho\ny\n\nz\n----\nold\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	*rewrite = true
	defer func() { *rewrite = false }()
	RunTest(t, p, echo)
	got, _ := os.ReadFile(p)
	want := "# c\necho\nx\n----\nx\n\necho\ny\n\nz\n----\n----\ny\n\nz\n----\n----\n"
	if string(got) != want {
		t.Errorf("rewritten file:\n%q\nwant:\n%q", got, want)
	}
	*rewrite = false
	RunTest(t, p, echo) // the rewritten file passes
}
