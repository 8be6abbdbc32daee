package like

import "bytes"

// indexPair returns the index of the first occurrence of the two bytes c0
// c1 in b, or -1. Unlike bytes.Index, whose first step searches c0 alone,
// it stays fast when c0 is frequent and the pair rare (the backslashes of
// Windows paths, searching for \u).
func indexPair(b []byte, c0, c1 byte) int {
	if !hasPairSearch {
		return bytes.Index(b, []byte{c0, c1})
	}
	return indexPairMasked(b, 1, c0, 0, c1, 0)
}
