package compact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"
)

// FuzzScanStrings checks the scanner's strings, keys and values, against
// encoding/json on lines of valid UTF-8 that both accept.
func FuzzScanStrings(f *testing.F) {
	for _, s := range []string{
		`{"file_path":"C:\\Users\\ito\\OneDrive - 株式会社サンプル\\経理部\\売上集計_881.xlsx","size":1}`,
		`{"a":"x\"y","b\\c":"\u00e9\ud83d\ude00\n","d":"12345678\\","e":"\ud800x"}`,
		`{"k":"1234567\"","l":"","m":"\\\\\\\\\\\\\\\\\\\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if !utf8.Valid(line) {
			return
		}
		var want map[string]any
		if json.Unmarshal(line, &want) != nil {
			return
		}
		var s scanner
		if err := s.scan(line); err != nil {
			return // control characters: see FuzzScanLine
		}
		seen := map[string]int{}
		for _, m := range s.members {
			seen[string(m.key)]++
		}
		for _, m := range s.members {
			v, ok := want[string(m.key)]
			if !ok {
				t.Fatalf("key %q not in %v", m.key, want)
			}
			if m.kind != vString || seen[string(m.key)] > 1 {
				continue
			}
			if v != string(m.str) {
				t.Fatalf("member %q = %q, want %q", m.key, m.str, v)
			}
		}
	})
}

// TestScanInvalidUTF8 puts invalid UTF-8 in every place of a line the
// scanner reads — keys, strings with and without escapes, on both sides
// of an eight-byte boundary, nested values — and checks that exactly the
// members holding it are marked and hold the text with U+FFFD instead.
func TestScanInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		line string
		bad  []string // keys (as scanned) of the members marked
	}{
		{`{"a":"社外秘","b":"x"}`, nil},
		{"{\"a\":\"\xff\",\"b\":\"x\"}", []string{"a"}},
		{"{\"a\":\"1234567\xff\",\"b\":\"x\"}", []string{"a"}},
		{"{\"a\":\"12345678\xe3\x81\"}", []string{"a"}},
		{"{\"a\":\"\\\\\xff\",\"b\":\"\\\\社\"}", []string{"a"}},
		{"{\"a\":\"x\\n12345678901234567890\xff\\t\"}", []string{"a"}},
		{"{\"a\":\"x\\n\xe3\x81\\u3042\"}", []string{"a"}},
		{"{\"\xffk\":1,\"b\":2}", []string{"\uFFFDk"}},
		{"{\"a\":{\"b\":\"\xff\"},\"c\":[\"社\"]}", []string{"a"}},
		{"{\"a\":[1,\"12345678\xc0\xaf\"],\"c\":{}}", []string{"a"}},
		{"{\"a\":\"\xed\xa0\x80\"}", []string{"a"}},                  // a surrogate encoded in UTF-8
		{`{"a":"\ud800"}`, nil},                                      // a lone surrogate escaped: valid text, U+FFFD
		{"{\"a\":\"ok\",\"z\":\"\xf4\x90\x80\x80\"}", []string{"z"}}, // past U+10FFFF
	} {
		var s scanner
		if err := s.scan([]byte(tc.line)); err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		var bad []string
		for _, m := range s.members {
			if !utf8.Valid(m.key) || !utf8.Valid(m.str) {
				t.Errorf("%q: member %q = %q is not valid UTF-8", tc.line, m.key, m.str)
			}
			if m.badUTF {
				bad = append(bad, string(m.key))
			}
		}
		if fmt.Sprint(bad) != fmt.Sprint(tc.bad) {
			t.Errorf("%q: marked %q, want %q", tc.line, bad, tc.bad)
		}
	}
}

// FuzzScanUTF8 checks, on any bytes, that every key and value the scanner
// returns is valid UTF-8, and that no member of a valid line is marked.
func FuzzScanUTF8(f *testing.F) {
	for _, s := range []string{
		"{\"a\":\"\xff\",\"b\":{\"c\":\"\xe3\x81\"}}",
		`{"file_path":"C:\\Users\\社外秘.docx","n":1,"x":[true,null]}`,
		"{\"k\\u00e9\xff\":\"12345678\\\\\xc3\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var s scanner
		if s.scan(line) != nil {
			return
		}
		valid := utf8.Valid(line)
		for _, m := range s.members {
			if !utf8.Valid(m.key) || !utf8.Valid(m.str) {
				t.Fatalf("member %q = %q is not valid UTF-8", m.key, m.str)
			}
			if valid && m.badUTF && !bytes.Contains(line, []byte(`\u`)) {
				t.Fatalf("member %q of a valid line marked", m.key)
			}
		}
	})
}
