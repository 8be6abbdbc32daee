//go:build !linux

package rawcodec

// allocBig returns size bytes of Go memory.
func allocBig(size int) *bigBuf { return &bigBuf{b: make([]byte, size)} }
