package envelope

import (
	"testing"
	"unicode/utf8"
)

// FuzzRuneLen checks that the scanner's in-line UTF-8 check agrees with
// utf8.Valid on every string.
func FuzzRuneLen(f *testing.F) {
	f.Add([]byte("\xe3\x81\x82\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New(testCfg)
		in := append(append([]byte(`"`), b...), '"')
		s.b, s.i = in, 0
		_, ok := s.str()
		if !ok {
			return
		}
		if s.badUTF8 == utf8.Valid(in[:s.i]) {
			t.Fatalf("badUTF8=%v for %q", s.badUTF8, in)
		}
	})
}
