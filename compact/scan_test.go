package compact

import (
	"encoding/json"
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
