package like

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// naiveFoldIndex is the definition foldLit.index must agree with.
func naiveFoldIndex(s []byte, f *foldLit) int {
	for i := 0; i+len(f.lo) <= len(s); i++ {
		ok := true
		for j := range f.lo {
			if s[i+j]|f.mask[j] != f.lo[j] {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

func TestFoldLitIndex(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		s, lit string
		fold   bool
		want   int
	}{
		{"", "", true, 0},
		{"abc", "", true, 0},
		{"", "a", true, -1},
		{"Excel", "excel", true, 0},
		{"- EXCEL", "excel", true, 2},
		{"- EXCEL", "excel", false, -1},
		{"exce", "excel", true, -1},
		{"[xcel", "{xcel", true, -1}, // '[' | 0x20 is '{': not a letter, no folding
		{"社外秘", "社外秘", false, 0},
		{long + "eXcEl", "excel", true, 300},
		{long + "eXcEl" + long, "excel", true, 300},
		{long + "excel", "excel", false, 300},
		{long + "xcel", "excel", true, -1},
		// Dense candidates switch to the other searches.
		{strings.Repeat("xc", 500) + "Excel", "excel", true, 1000},
		{strings.Repeat("e", 1000) + "eee!", "eee!", false, 1000},
		{strings.Repeat("e", 1000) + "EeE!", "eee!", true, 1000},
		{strings.Repeat("e", 1000), "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee!", true, -1},
	}
	for _, tt := range tests {
		f := asciiFoldLit([]byte(tt.lit), tt.fold)
		if got := f.index([]byte(tt.s)); got != tt.want {
			t.Errorf("index(%.20q…, %q, fold %v) = %d, want %d", tt.s, tt.lit, tt.fold, got, tt.want)
		}
		if got := f.swarIndex([]byte(tt.s)); got != tt.want {
			t.Errorf("swarIndex(%.20q…, %q, fold %v) = %d, want %d", tt.s, tt.lit, tt.fold, got, tt.want)
		}
	}
}

func FuzzFoldLitIndex(f *testing.F) {
	f.Add([]byte("月次報告書.xlsx - Excel"), []byte("excel"), true, uint8(0))
	f.Add([]byte("abcabcabcABCABD"), []byte("abd"), true, uint8(40))
	f.Add([]byte("e"), []byte("eee"), false, uint8(200))
	f.Fuzz(func(t *testing.T, s, lit []byte, fold bool, pad uint8) {
		if len(lit) > 100 {
			return
		}
		// Padding moves the subject past the short-subject loop.
		s = append(bytes.Repeat(s[:min(len(s), 1)], int(pad)), s...)
		fl := asciiFoldLit(lit, fold)
		want := naiveFoldIndex(s, fl)
		if got := fl.index(s); got != want {
			t.Fatalf("index(%q, %q, %v) = %d, want %d", s, lit, fold, got, want)
		}
		if got := fl.swarIndex(s); got != want {
			t.Fatalf("swarIndex(%q, %q, %v) = %d, want %d", s, lit, fold, got, want)
		}
		// The pair search, which index uses on long subjects only.
		if last := len(s) - len(lit); fl.probe != fl.probe2 && last >= 0 {
			if got := fl.pairIndex(s, last); got != want {
				t.Fatalf("pairIndex(%q, %q, %v) = %d, want %d", s, lit, fold, got, want)
			}
		}
	})
}

// TestASCIIFoldOrbits checks what the ASCII fast paths rely on: the only
// non-ASCII characters whose simple-fold orbit holds an ASCII character
// are U+212A (with k) and U+017F (with s).
func TestASCIIFoldOrbits(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			if (r < 0x80) == (o < 0x80) {
				continue
			}
			a, n := r, o
			if n < 0x80 {
				a, n = n, a
			}
			if !(n == '\u212a' && a|0x20 == 'k') && !(n == '\u017f' && a|0x20 == 's') {
				t.Errorf("%U folds to %U", r, o)
			}
		}
	}
}

func TestNeedles(t *testing.T) {
	ci := Options{IgnoreCase: true}
	tests := []struct {
		pattern string
		opts    Options
		want    []Needle
	}{
		{"%", Options{}, nil},
		{"%abc%", ci, []Needle{{"abc", true}}},
		{"%社外秘%", ci, []Needle{{"社外秘", false}}},
		{"%Excel%", Options{}, []Needle{{"Excel", false}}},
		{"%.XLSX - Excel%", ci, []Needle{{".xlsx - excel", true}}},
		{"%Café au lait%", ci, []Needle{{"caf", true}, {" au lait", true}}},
		{"%é社%", ci, []Needle{{"社", false}}},
		{"%a_b%C", ci, []Needle{{"a", true}, {"b", true}, {"c", true}}},
		{"%\u212aelvin%", ci, []Needle{{"kelvin", true}}},
		{"%ſtop%", ci, []Needle{{"stop", true}}},
	}
	for _, tt := range tests {
		got := MustCompile(tt.pattern, tt.opts).Needles()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Needles(%q) mismatch (-want +got):\n%s", tt.pattern, diff)
		}
	}
}
