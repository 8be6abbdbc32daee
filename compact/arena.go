package compact

import (
	"unsafe"

	"github.com/loglake/loglake/internal/bigmem"
)

// Column buffers come from arenas. A run's columns are tens of megabytes
// that live for one flush. From the Go heap, every byte is zeroed by the
// allocator, faulted in page by page on first touch, and collected again:
// in a virtual machine the page faults alone cost a tenth of a
// compaction. An arena hands out the buffers of one chunk from a few large
// buffers of the bigmem pool (outside the heap, on huge pages where the
// platform allows, reused from chunk to chunk) and gives them all back at
// once.
//
// INVARIANT: an arena is released only once nothing reads its memory: a
// sealed chunk's when its runData is released, after its Parquet file is
// written; a chunk never sealed when its parse pool stops. Arrays that
// alias it must not outlive it (LineBatch and the other query-time readers
// use no arena).

// arena is a bump allocator over pooled buffers. It is used by one
// goroutine at a time; a nil arena allocates from the Go heap.
type arena struct {
	bufs []*bigmem.Buf // shared by small requests
	free []byte        // the unused rest of the last shared buffer
	// own holds the buffers of large requests, by address: one that a
	// column outgrows goes back to the pool at once.
	own map[*byte]*bigmem.Buf
}

// arenaAlign is what sizes are rounded up to: Go's and the pool's buffers
// are aligned to it, and typed views need 8.
const arenaAlign = 64

// alloc returns an empty slice with room for n bytes. Large requests get a
// buffer of their own; small ones share one.
func (a *arena) alloc(n int) []byte {
	n = (max(n, arenaAlign) + arenaAlign - 1) &^ (arenaAlign - 1)
	if n >= bigmem.Min/2 {
		b := bigmem.Get(n)
		if a.own == nil {
			a.own = make(map[*byte]*bigmem.Buf)
		}
		s := b.Bytes()[:0:n]
		a.own[unsafe.SliceData(s)] = b
		return s
	}
	if n > len(a.free) {
		b := bigmem.Get(n)
		a.bufs = append(a.bufs, b)
		a.free = b.Bytes()
	}
	s := a.free[:0:n]
	a.free = a.free[n:]
	return s
}

// release gives the arena's buffers back to the pool. Nothing may read
// memory it handed out afterwards.
func (a *arena) release() {
	if a == nil {
		return
	}
	for _, b := range a.bufs {
		bigmem.Put(b)
	}
	for _, b := range a.own {
		bigmem.Put(b)
	}
	a.bufs, a.free, a.own = nil, nil, nil
}

// drop gives back the buffer of a large request, s, that is no longer
// used; nothing for other memory.
func (a *arena) drop(s []byte) {
	p := unsafe.SliceData(s)
	if b, ok := a.own[p]; ok {
		delete(a.own, p)
		bigmem.Put(b)
	}
}

// arenaElem are the element types of column buffers: no pointers, sizes
// dividing arenaAlign.
type arenaElem interface {
	~byte | ~int32 | ~int64 | ~float64
}

// makeIn returns an empty []T with room for at least n elements, from a
// (nil: the Go heap).
func makeIn[T arenaElem](a *arena, n int) []T {
	if a == nil {
		return make([]T, 0, n)
	}
	var z T
	size := int(unsafe.Sizeof(z))
	b := a.alloc(n * size)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), cap(b)/size)[:0]
}

// growIn is grow for a buffer of arena a: the new buffer comes from a
// too. The old one goes back to the pool if it was a large request's, and
// is left unused in the arena otherwise.
func growIn[T arenaElem](a *arena, s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	return growArena(a, s, n)
}

func growArena[T arenaElem](a *arena, s []T, n int) []T {
	if a == nil {
		return grow(s, n)
	}
	ns := append(makeIn[T](a, max(2*cap(s), len(s)+n, 256)), s...)
	if cap(s) > 0 {
		a.drop(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 1))
	}
	return ns
}
