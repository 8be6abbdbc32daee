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

// indexEitherSSE2 returns the first i with b[i] == c0 or b[i] == c1, 16
// bytes at a time, or -(k+1) where k is the first position it did not
// check (it stops when fewer than 16 bytes are left).
//
//go:noescape
func indexEitherSSE2(b []byte, c0, c1 byte) int

// IndexEither returns the index of the first byte of b that is c0 or c1,
// or -1: the search for the end of a JSON string or its next escape ('"'
// or '\\'), which bytes.IndexAny does a byte at a time.
func IndexEither(b []byte, c0, c1 byte) int {
	r := -1
	if len(b) >= 16 {
		if r = indexEitherSSE2(b, c0, c1); r >= 0 {
			return r
		}
	}
	for i := -r - 1; i < len(b); i++ {
		if b[i] == c0 || b[i] == c1 {
			return i
		}
	}
	return -1
}
