// Package datadriven runs table tests written as text files: a command, its
// input, a "----" separator and the expected output. It is a small
// stand-in for github.com/cockroachdb/datadriven (see STYLE.md point 15)
// that keeps loglake's dependency list short.
//
// # File format
//
//	# Lines starting with '#' outside a case are comments (reasons).
//	command arg1 key=value key=(v1,v2)
//	input line 1
//	input line 2
//	----
//	expected output
//	(ends at the first blank line)
//
// When the expected output itself contains blank lines, write the separator
// twice; the output then ends at the next "----" "----" pair:
//
//	command
//	----
//	----
//	first paragraph
//
//	second paragraph
//	----
//	----
//
// # Rewriting
//
// Run `go test ./pkg -run TestX -rewrite` to replace every expected output
// with what the test produced; review the diff before committing.
package datadriven

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite datadriven testdata files with the actual output")

// TestData is one case of a file.
type TestData struct {
	Pos      string // "file:line" of the command, for messages
	Cmd      string // first word of the command line
	Args     []Arg  // the remaining words of the command line
	Input    string // lines between the command and "----", joined by "\n"
	Expected string // expected output, without the trailing newline
}

// Arg is one word of a command line: "key", "key=value" or "key=(v1,v2)".
type Arg struct {
	Key  string
	Vals []string
}

// Arg returns the named argument and whether it was present.
func (d *TestData) Arg(key string) (Arg, bool) {
	for _, a := range d.Args {
		if a.Key == key {
			return a, true
		}
	}
	return Arg{}, false
}

// Walk runs RunTest on every file under dir (non-recursive), one subtest per file.
func Walk(t *testing.T, dir string, f func(t *testing.T, d *TestData) string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) { RunTest(t, p, f) })
	}
}

// RunTest runs f on every case of the file at path and compares its output
// (trailing newlines trimmed) with the expected output. With -rewrite, the
// file is rewritten with the actual outputs instead.
func RunTest(t *testing.T, path string, f func(t *testing.T, d *TestData) string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	var out strings.Builder
	for i := 0; i < len(lines); {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			i++
			continue
		}
		d := &TestData{Pos: fmt.Sprintf("%s:%d", path, i+1)}
		fields := strings.Fields(line)
		d.Cmd = fields[0]
		for _, w := range fields[1:] {
			k, v, ok := strings.Cut(w, "=")
			a := Arg{Key: k}
			if ok {
				v = strings.TrimSuffix(strings.TrimPrefix(v, "("), ")")
				a.Vals = strings.Split(v, ",")
			}
			d.Args = append(d.Args, a)
		}
		out.WriteString(line + "\n")
		i++
		var input []string
		for i < len(lines) && lines[i] != "----" {
			input = append(input, lines[i])
			i++
		}
		if i == len(lines) {
			t.Fatalf("%s: missing \"----\" after command", d.Pos)
		}
		d.Input = strings.Join(input, "\n")
		i++ // skip ----
		var expected []string
		if i < len(lines) && lines[i] == "----" { // multi-paragraph form
			i++
			for i < len(lines) && !(lines[i] == "----" && i+1 < len(lines) && lines[i+1] == "----") {
				expected = append(expected, lines[i])
				i++
			}
			i += 2
		} else {
			for i < len(lines) && lines[i] != "" {
				expected = append(expected, lines[i])
				i++
			}
		}
		d.Expected = strings.Join(expected, "\n")

		actual := strings.TrimRight(f(t, d), "\n")
		for _, l := range input {
			out.WriteString(l + "\n")
		}
		if strings.Contains(actual, "\n\n") {
			out.WriteString("----\n----\n" + actual + "\n----\n----\n")
		} else {
			out.WriteString("----\n" + actual + "\n")
		}
		if !*rewrite && actual != d.Expected {
			t.Errorf("%s: %s\nexpected:\n%s\nactual:\n%s", d.Pos, line, d.Expected, actual)
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
