package like

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestIndexPairSIMD checks both SIMD searches (AVX2 where the CPU has it,
// and SSE2) against a plain scan, over lengths, offsets and distances that
// reach every step and tail of the loops.
func TestIndexPairSIMD(t *testing.T) {
	impls := []struct {
		name string
		f    func(b []byte, d int, c0, m0, c1, m1 byte) int
		ok   bool
	}{
		{"SSE2", indexPairSSE2, true},
		{"AVX2", indexPairAVX2, useAVX2},
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, im := range impls {
		if !im.ok {
			t.Logf("%s: not supported by this CPU", im.name)
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			for range 20000 {
				n := r.IntN(300)
				d := 1 + r.IntN(40)
				buf := make([]byte, n+64)
				for i := range buf {
					buf[i] = "aAbB\\u"[r.IntN(6)]
					if i >= n {
						buf[i] = 'B' // a guard that would complete a pair
					}
				}
				off := r.IntN(min(32, n+1))
				b := buf[off:n] // bytes past n are guards: they must not count
				want := -1
				for i := 0; i+d < len(b); i++ {
					if b[i]|0x20 == 'a' && b[i+d] == 'B' {
						want = i
						break
					}
				}
				got := im.f(b, d, 'a', 0x20, 'B', 0)
				if got < 0 {
					k := -got - 1 // first position not checked
					if k > len(b) || (want >= 0 && want < k) {
						t.Fatalf("%s(len %d, d %d) = %d (unchecked from %d), want %d", im.name, len(b), d, got, k, want)
					}
					for i := k; i+d < len(b); i++ {
						if b[i]|0x20 == 'a' && b[i+d] == 'B' {
							got = i
							break
						}
					}
					if got < 0 {
						got = -1
					}
				}
				if got != want {
					t.Fatalf("%s(%q, d %d) = %d, want %d", im.name, b, d, got, want)
				}
			}
		})
	}
}

func TestLastIndexByte(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 5000 {
		n := r.IntN(100)
		buf := make([]byte, n+32)
		for i := range buf {
			buf[i] = "ab\n"[r.IntN(3)]
			if r.IntN(4) > 0 {
				buf[i] = 'a'
			}
		}
		off := r.IntN(min(16, n+1))
		for i := range off {
			buf[i] = '\n' // guards before the start must not count
		}
		b := buf[off:n]
		want := bytes.LastIndexByte(b, '\n')
		if got := lastIndexByte(b, '\n'); got != want {
			t.Fatalf("lastIndexByte(%q) = %d, want %d", b, got, want)
		}
	}
}
