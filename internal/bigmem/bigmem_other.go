//go:build !linux

package bigmem

// alloc returns size bytes of Go memory.
func alloc(size int) *Buf { return &Buf{b: make([]byte, size)} }
