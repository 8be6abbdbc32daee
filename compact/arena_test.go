package compact

import (
	"testing"
	"unsafe"

	"github.com/loglake/loglake/internal/bigmem"
)

// TestArena checks what an arena hands out and that every buffer goes
// back to the pool: a large column's old buffer as soon as it grows, the
// rest on release. The tests run with bigmem checked, so Mapped counts
// exactly the buffers in use.
func TestArena(t *testing.T) {
	before := bigmem.Mapped()
	a := &arena{}
	small := makeIn[int64](a, 10)
	str := makeIn[byte](a, 3)
	for _, p := range []unsafe.Pointer{unsafe.Pointer(unsafe.SliceData(small)), unsafe.Pointer(unsafe.SliceData(str))} {
		if uintptr(p)%arenaAlign != 0 {
			t.Fatalf("allocation at %p: not %d-byte aligned", p, arenaAlign)
		}
	}
	if len(small) != 0 || cap(small) < 10 || len(str) != 0 || cap(str) < 3 {
		t.Fatalf("small allocations: len %d cap %d, len %d cap %d", len(small), cap(small), len(str), cap(str))
	}
	if &small[:1][0] == (*int64)(unsafe.Pointer(&str[:1][0])) {
		t.Fatal("two allocations share memory")
	}
	shared := bigmem.Mapped() - before
	var big []int64
	for i := range bigmem.Min / 8 * 3 { // grows past two large buffers
		big = append(growIn(a, big, 1), int64(i))
	}
	for i, v := range big {
		if v != int64(i) {
			t.Fatalf("big[%d] = %d after growing", i, v)
		}
	}
	if len(a.own) != 1 {
		t.Fatalf("%d large buffers held, want the last one only", len(a.own))
	}
	if held := bigmem.Mapped() - before - shared; held > int64(cap(big))*8*2 {
		t.Fatalf("%d bytes mapped for a column of %d", held, cap(big)*8)
	}
	a.release()
	if m := bigmem.Mapped(); m != before {
		t.Fatalf("%d bytes still mapped after release", m-before)
	}
	var nilArena *arena
	if s := makeIn[float64](nilArena, 5); cap(s) != 5 {
		t.Fatalf("nil arena: cap %d", cap(s))
	}
	nilArena.release()
}
