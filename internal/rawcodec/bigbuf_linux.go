package rawcodec

import "syscall"

// allocBig maps size bytes (a multiple of hugePage) aligned to a huge page
// and asks for transparent huge pages: a fresh 4 KiB page costs a fault
// each, which in short-lived processes (and virtual machines) dominates
// the cost of decoding into it. Falls back to Go memory.
func allocBig(size int) *bigBuf {
	m, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return &bigBuf{b: make([]byte, size)}
	}
	off := 0
	if r := uintptrOf(m) % hugePage; r != 0 {
		off = int(hugePage - r)
	}
	b := m[off : off+size : off+size]
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) // advice only
	bigMapped.Add(int64(len(m)))
	return &bigBuf{b: b, free: func() {
		bigMapped.Add(-int64(len(m)))
		_ = syscall.Munmap(m)
	}}
}
