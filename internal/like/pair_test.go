package like

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestIndexPair(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte(`\u\\ux"`)
	for n := range 200 {
		for range 20 {
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			// Guard bytes past the end must not count.
			buf := append(b, '\\', 'u')[:n]
			for _, p := range [][2]byte{{'\\', 'u'}, {'\\', '/'}, {'u', 'u'}, {'\\', '\\'}} {
				want := bytes.Index(b, p[:])
				if got := indexPair(buf, p[0], p[1]); got != want {
					t.Fatalf("indexPair(%q, %q) = %d, want %d", b, p[:], got, want)
				}
			}
		}
	}
	if got := indexPair(nil, 'a', 'b'); got != -1 {
		t.Errorf("indexPair(nil) = %d", got)
	}
}

func FuzzIndexPair(f *testing.F) {
	f.Add([]byte(`C:\\Users\\社外秘\u0041 and more text after it`), byte('\\'), byte('u'))
	f.Add([]byte(`0123456789abcdef\u`), byte('\\'), byte('u'))
	f.Fuzz(func(t *testing.T, b []byte, c0, c1 byte) {
		if got, want := indexPair(b, c0, c1), bytes.Index(b, []byte{c0, c1}); got != want {
			t.Fatalf("indexPair(%q, %q, %q) = %d, want %d", b, c0, c1, got, want)
		}
	})
}
