//go:build !amd64

package like

import "bytes"

// hasPairSearch tells whether indexPairMasked is a SIMD search.
const hasPairSearch = false

// indexPairMasked returns the first i with b[i]|m0 == c0 and
// b[i+d]|m1 == c1 (d > 0), or -1.
func indexPairMasked(b []byte, d int, c0, m0, c1, m1 byte) int {
	for i := 0; i+d < len(b); i++ {
		if b[i]|m0 == c0 && b[i+d]|m1 == c1 {
			return i
		}
	}
	return -1
}

// lastIndexByte is bytes.LastIndexByte.
func lastIndexByte(b []byte, c byte) int { return bytes.LastIndexByte(b, c) }
