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
	for n := range 100 {
		b := make([]byte, n)
		for i := range b {
			b[i] = "xXeEcC"[r.IntN(6)]
		}
		for d := 1; d < 20; d++ {
			want := -1
			for i := 0; i+d < n; i++ {
				if b[i]|0x20 == 'x' && b[i+d] == 'C' {
					want = i
					break
				}
			}
			if got := indexPairMasked(b, d, 'x', 0x20, 'C', 0); got != want {
				t.Fatalf("indexPairMasked(%q, %d) = %d, want %d", b, d, got, want)
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

// TestFoldLitLongSubjects checks foldLit.index on subjects long enough for
// the pair search, against a plain scan.
func TestFoldLitLongSubjects(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"e", "E", "x", "X", "c", "C", "l", "L", ".", "\\", "社", "外", "秘"}
	for _, lit := range []string{"excel", "EXE", "xe", "社外秘", "x.e", "l社"} {
		for _, fold := range []bool{false, true} {
			f := asciiFoldLit([]byte(lit), fold)
			for range 30 {
				var b bytes.Buffer
				for b.Len() < pairSearchMin+r.IntN(3*pairSearchMin) {
					b.WriteString(alphabet[r.IntN(len(alphabet))])
				}
				s := b.Bytes()
				want := -1
				for i := 0; i+len(lit) <= len(s); i++ {
					if fold && bytes.EqualFold(s[i:i+len(lit)], []byte(lit)) || !fold && bytes.Equal(s[i:i+len(lit)], []byte(lit)) {
						want = i
						break
					}
				}
				if got := f.index(s); got != want {
					t.Fatalf("index(%q, fold=%v) in %d bytes = %d, want %d", lit, fold, len(s), got, want)
				}
			}
		}
	}
}
