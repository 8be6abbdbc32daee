package like

import "golang.org/x/sys/cpu"

// indexPairSSE2 looks for a position i with b[i]|m0 == c0 and
// b[i+d]|m1 == c1 (d > 0), 16 positions at a time (SSE2, which every
// amd64 has). It returns the first such i, or -(k+1) where k is the first
// position it did not check (it stops when fewer than d+16 bytes are left).
//
//go:noescape
func indexPairSSE2(b []byte, d int, c0, m0, c1, m1 byte) int

// indexPairAVX2 is indexPairSSE2 with AVX2, 64 positions at a time (32
// near the end): it stops when fewer than d+32 bytes are left.
//
//go:noescape
func indexPairAVX2(b []byte, d int, c0, m0, c1, m1 byte) int

// useAVX2 selects indexPairAVX2 where the CPU has AVX2.
var useAVX2 = cpu.X86.HasAVX2

// hasPairSearch tells whether indexPairMasked is a SIMD search.
const hasPairSearch = true

// indexPairMasked returns the first i with b[i]|m0 == c0 and
// b[i+d]|m1 == c1 (d > 0), or -1. With masks of 0x20 on lower-case
// letters it finds a pair of letters in either case.
func indexPairMasked(b []byte, d int, c0, m0, c1, m1 byte) int {
	var r int
	if useAVX2 {
		r = indexPairAVX2(b, d, c0, m0, c1, m1)
	} else {
		r = indexPairSSE2(b, d, c0, m0, c1, m1)
	}
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

// lastIndexByteSSE2 returns the last i with b[i] == c, 16 bytes at a time
// from the end, or -(k+1) where b[:k] is left unchecked (k < 16).
//
//go:noescape
func lastIndexByteSSE2(b []byte, c byte) int

// lastIndexByte is bytes.LastIndexByte, which is a plain loop, with SSE2.
func lastIndexByte(b []byte, c byte) int {
	r := lastIndexByteSSE2(b, c)
	if r >= 0 {
		return r
	}
	for i := -r - 2; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}
