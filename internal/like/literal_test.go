package like

import (
	"strings"
	"testing"
)

func TestLiteralIndex(t *testing.T) {
	for _, tc := range []struct{ lit, s string }{
		{"社外秘", "C:\\Users\\a\\社外\\社外秘.docx"},
		{"社外秘", "社外"},
		{"abc", "xxabxabcx"},
		{"", "abc"},
		{"a", ""},
		{"ab", "AB ab"},
		{"x", "yyyy"},
	} {
		got := NewLiteral([]byte(tc.lit)).Index([]byte(tc.s))
		if want := strings.Index(tc.s, tc.lit); got != want {
			t.Errorf("Literal(%q).Index(%q) = %d, want %d", tc.lit, tc.s, got, want)
		}
	}
}
