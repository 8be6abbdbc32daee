package compact

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Column buffers: what a chunk appends values to. They are plain Go slices
// handed to Arrow without a copy when the chunk is sealed. Arrow's builders
// cost about a third of parsing here: a capacity check and a validity bit
// per value, and growth that zeroes each new buffer twice. These append
// with no check but the slice's, keep no validity bitmap until the first
// null, and double their data buffer when it is full.

// grow returns s with room for n more elements, doubling its capacity when
// it must grow (append's growth slows to 1.25× for large slices, which
// copies a column several times over). Growing by append zeroes only the
// new room, where make would zero the part copied over too.
func grow[T any](s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	return append(s, make([]T, max(2*cap(s), len(s)+n, 256)-len(s))...)[:len(s)]
}

// validity is a validity bitmap (bit set: value present) that exists only
// once a null was appended.
type validity struct {
	bits  []byte // nil while every value is present
	nulls int
}

// add records n more values, present or not, after the first have ones.
func (v *validity) add(have, n int, present bool) {
	if present && v.bits == nil {
		return
	}
	if v.bits == nil {
		v.bits = make([]byte, (have+7)/8, max(64, (have+n+7)/8*2))
		for i := range v.bits {
			v.bits[i] = 0xff
		}
		if r := have % 8; r != 0 {
			v.bits[len(v.bits)-1] = byte(1)<<r - 1
		}
	}
	if need, old := (have+n+7)/8, len(v.bits); need > old {
		v.bits = grow(v.bits, need-old)[:need]
		clear(v.bits[old:])
	}
	if present {
		for i := have; i < have+n; i++ {
			v.bits[i>>3] |= 1 << (i & 7)
		}
		return
	}
	v.nulls += n // new bytes are zero; bits of a partial byte past have are zero too
}

// buffer returns the bitmap as an Arrow buffer, nil when there is no null.
func (v *validity) buffer() *memory.Buffer {
	if v.nulls == 0 {
		return nil
	}
	return memory.NewBufferBytes(v.bits)
}

// strBuf accumulates a string (or JSON) column.
type strBuf struct {
	offs  []int32 // len = values + 1
	data  []byte
	v     validity
	arena *arena // where offs and data come from; nil: the Go heap
}

// newStrBuf returns an empty string buffer whose offsets and data come
// from a (nil: the Go heap), with room for the values and bytes of hint.
func newStrBuf(a *arena, hint colSize) *strBuf {
	b := &strBuf{arena: a}
	b.offs = append(makeIn[int32](a, max(hint.vals+1, 1024)), 0)
	if hint.bytes > 0 {
		b.data = makeIn[byte](a, hint.bytes)
	}
	return b
}

func (b *strBuf) len() int { return len(b.offs) - 1 }

func (b *strBuf) append(s []byte) {
	n := b.len()
	b.data = append(growIn(b.arena, b.data, len(s)), s...)
	b.offs = append(growIn(b.arena, b.offs, 1), int32(len(b.data)))
	b.v.add(n, 1, true)
}

func (b *strBuf) appendNulls(k int) {
	n := b.len()
	end := int32(len(b.data))
	b.offs = growIn(b.arena, b.offs, k)
	for range k {
		b.offs = append(b.offs, end)
	}
	b.v.add(n, k, false)
}

func (b *strBuf) newArray() arrow.Array {
	offs := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b.offs))), 4*len(b.offs))
	d := array.NewData(arrow.BinaryTypes.String, b.len(),
		[]*memory.Buffer{b.v.buffer(), memory.NewBufferBytes(offs), memory.NewBufferBytes(b.data)}, nil, b.v.nulls, 0)
	defer d.Release()
	*b = strBuf{}
	return array.NewStringData(d)
}

// numBuf accumulates an int64, timestamp or float64 column.
type numBuf[T int64 | float64] struct {
	vals  []T
	v     validity
	arena *arena // where vals comes from; nil: the Go heap
}

func newNumBuf[T int64 | float64](a *arena, hint colSize) *numBuf[T] {
	return &numBuf[T]{vals: makeIn[T](a, hint.vals), arena: a}
}

func (b *numBuf[T]) len() int { return len(b.vals) }

func (b *numBuf[T]) append(x T) {
	b.v.add(len(b.vals), 1, true)
	b.vals = append(growIn(b.arena, b.vals, 1), x)
}

func (b *numBuf[T]) appendNulls(k int) {
	b.v.add(len(b.vals), k, false)
	b.vals = growIn(b.arena, b.vals, k)
	b.vals = b.vals[:len(b.vals)+k]
	clear(b.vals[len(b.vals)-k:])
}

func (b *numBuf[T]) newArray(dt arrow.DataType) arrow.Array {
	var zero T
	vals := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b.vals))), len(b.vals)*int(unsafe.Sizeof(zero)))
	d := array.NewData(dt, len(b.vals), []*memory.Buffer{b.v.buffer(), memory.NewBufferBytes(vals)}, nil, b.v.nulls, 0)
	defer d.Release()
	*b = numBuf[T]{}
	return array.MakeFromData(d)
}
