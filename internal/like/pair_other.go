//go:build !amd64

package like

import "bytes"

// indexPair returns the index of the first occurrence of the two bytes c0
// c1 in b, or -1.
func indexPair(b []byte, c0, c1 byte) int { return bytes.Index(b, []byte{c0, c1}) }
