package like

// indexPairSSE2 looks for the pair c0 c1 in b, 16 positions at a time
// (SSE2, which every amd64 has). It returns the index of the first pair
// found, or -(k+1) where k is the first position it did not check (it
// stops when fewer than 17 bytes are left).
//
//go:noescape
func indexPairSSE2(b []byte, c0, c1 byte) int

// indexPair returns the index of the first occurrence of the two bytes c0
// c1 in b, or -1. Unlike bytes.Index, whose first step searches c0 alone,
// it stays fast when c0 is frequent and the pair rare (backslashes of
// Windows paths, searching for \u).
func indexPair(b []byte, c0, c1 byte) int {
	r := indexPairSSE2(b, c0, c1)
	if r >= 0 {
		return r
	}
	for i := -r - 1; i+1 < len(b); i++ {
		if b[i] == c0 && b[i+1] == c1 {
			return i
		}
	}
	return -1
}
