package like

// indexPairSSE2 looks for a position i with b[i]|m0 == c0 and
// b[i+d]|m1 == c1 (d > 0), 16 positions at a time (SSE2, which every
// amd64 has). It returns the first such i, or -(k+1) where k is the first
// position it did not check (it stops when fewer than d+16 bytes are left).
//
//go:noescape
func indexPairSSE2(b []byte, d int, c0, m0, c1, m1 byte) int

// hasPairSearch tells whether indexPairMasked is a SIMD search.
const hasPairSearch = true

// indexPairMasked returns the first i with b[i]|m0 == c0 and
// b[i+d]|m1 == c1 (d > 0), or -1. With masks of 0x20 on lower-case
// letters it finds a pair of letters in either case.
func indexPairMasked(b []byte, d int, c0, m0, c1, m1 byte) int {
	r := indexPairSSE2(b, d, c0, m0, c1, m1)
	if r >= 0 {
		return r
	}
	for i := -r - 1; i+d < len(b); i++ {
		if b[i]|m0 == c0 && b[i+d]|m1 == c1 {
			return i
		}
	}
	return -1
}
