package bigmem

import (
	"syscall"
	"unsafe"
)

// alloc maps size bytes (a multiple of hugePage) aligned to a huge page
// and asks for transparent huge pages. Falls back to Go memory.
func alloc(size int) *Buf {
	m, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return &Buf{b: make([]byte, size)}
	}
	off := 0
	if r := uintptr(unsafe.Pointer(unsafe.SliceData(m))) % hugePage; r != 0 {
		off = int(hugePage - r)
	}
	b := m[off : off+size : off+size]
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) // advice only
	mapped.Add(int64(len(m)))
	return &Buf{b: b, free: func() {
		mapped.Add(-int64(len(m)))
		_ = syscall.Munmap(m)
	}}
}
