package compact

import (
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// blockSeg marks where rows of one input block start in a chunk. Blocks are
// numbered in input order; a chunk receives blocks in increasing order.
type blockSeg struct {
	seq  uint32
	from int32 // first row of the block
}

// beginBlock notes that the rows added next come from block seq.
func (c *chunk) beginBlock(seq uint32) {
	if n := len(c.segs); n > 0 && (c.segs[n-1].seq == seq || c.segs[n-1].from == int32(c.rows)) {
		c.segs[n-1].seq = seq // the same block, or the last one added no row
		return
	}
	c.segs = append(c.segs, blockSeg{seq: seq, from: int32(c.rows)})
}

// seqOf returns the block of row r.
func (s *sealed) seqOf(r int32) uint32 {
	i, _ := slices.BinarySearchFunc(s.segs, r, func(g blockSeg, r int32) int {
		switch {
		case g.from > r:
			return 1
		case g.from < r:
			return -1
		}
		return 0
	})
	// i is the first segment starting after r, or the one starting at r.
	if i < len(s.segs) && s.segs[i].from == r {
		return s.segs[i].seq
	}
	if i == 0 {
		return 0
	}
	return s.segs[i-1].seq
}

// runData is one run — the chunks parse workers filled side by side — as
// one table for the writer: the union of their schemas, each part's columns
// in the union's types, and one time order over all parts.
//
// INVARIANT: the order is the one a single chunk fed the whole input in
// order would have: by time, ties (and rows without time) in input order.
// Ties between parts are broken by block number, which is input order.
type runData struct {
	schema Schema
	parts  []*sealed
	cols   [][]arrow.Array // cols[f][k]: field f of part k, nil where absent
	order  []uint64        // part<<32 | row, in time order
	rows   int
	minUS  int64
	maxUS  int64
	hasTS  bool
}

func (r *runData) release() {
	for _, cs := range r.cols {
		for _, a := range cs {
			if a != nil {
				a.Release()
			}
		}
	}
	r.cols = nil
	for _, p := range r.parts {
		p.release()
	}
	r.parts = nil
}

// mergeSealed combines the sealed, non-empty parts of a run. It takes
// ownership of parts.
func mergeSealed(parts []*sealed) *runData {
	r := &runData{parts: parts}
	for _, p := range parts {
		r.schema = Union(r.schema, p.schema)
		r.rows += p.rows
		if p.hasTS {
			if !r.hasTS || p.minUS < r.minUS {
				r.minUS = p.minUS
			}
			if !r.hasTS || p.maxUS > r.maxUS {
				r.maxUS = p.maxUS
			}
			r.hasTS = true
		}
	}
	// Columns, converted where a part holds a narrower type. A part's
	// pinned columns (the timestamp among them) have the same type in
	// every part, so only inferred columns are ever converted.
	r.cols = make([][]arrow.Array, len(r.schema))
	for f, fld := range r.schema {
		r.cols[f] = make([]arrow.Array, len(parts))
		for k, p := range parts {
			i := slices.IndexFunc(p.schema, func(x Field) bool { return x.Name == fld.Name })
			if i < 0 {
				continue
			}
			arr := p.record.Column(i)
			if p.schema[i].Type != fld.Type {
				r.cols[f][k] = convertArray(arr, p.schema[i].Type, fld.Type)
				continue
			}
			arr.Retain()
			r.cols[f][k] = arr
		}
	}
	r.order = mergeOrders(parts)
	for _, p := range parts {
		p.keys, p.perm = nil, nil
	}
	return r
}

// convertArray returns arr, of type from, converted to the wider type to
// (float64 or string), as chunk.convert converts a column.
func convertArray(arr arrow.Array, from, to Type) arrow.Array {
	mem := memory.DefaultAllocator
	var c chunk
	switch to {
	case TypeFloat64:
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		for i := 0; i < arr.Len(); i++ {
			if arr.IsNull(i) {
				b.AppendNull()
				continue
			}
			m := valueAt(arr, from, i)
			if m.kind == vInt {
				b.Append(float64(m.i))
			} else {
				b.Append(m.f)
			}
		}
		return b.NewArray()
	default:
		b := array.NewStringBuilder(mem)
		defer b.Release()
		for i := 0; i < arr.Len(); i++ {
			if arr.IsNull(i) {
				b.AppendNull()
				continue
			}
			m := valueAt(arr, from, i)
			c.scratch = c.appendText(c.scratch[:0], &m)
			b.BinaryBuilder.Append(c.scratch)
		}
		return b.NewArray()
	}
}

// mergeOrders merges the time orders of parts, pairwise, into one order of
// part<<32 | row references.
func mergeOrders(parts []*sealed) []uint64 {
	lists := make([][]uint64, len(parts))
	for k, p := range parts {
		l := make([]uint64, len(p.perm))
		for i, r := range p.perm {
			l[i] = uint64(k)<<32 | uint64(uint32(r))
		}
		lists[k] = l
	}
	key := func(ref uint64) uint64 {
		p := parts[ref>>32]
		if p.keys == nil {
			return 0
		}
		return p.keys[uint32(ref)]
	}
	less := func(a, b uint64) bool { // a, of one part, goes strictly before b, of another
		ka, kb := key(a), key(b)
		if ka != kb {
			return ka < kb
		}
		return parts[a>>32].seqOf(int32(uint32(a))) < parts[b>>32].seqOf(int32(uint32(b)))
	}
	for len(lists) > 1 {
		next := make([][]uint64, 0, (len(lists)+1)/2)
		var wg sync.WaitGroup
		for i := 0; i+1 < len(lists); i += 2 {
			next = append(next, nil)
			out := &next[len(next)-1]
			a, b := lists[i], lists[i+1]
			wg.Go(func() { *out = mergeTwo(a, b, less) })
		}
		wg.Wait()
		if len(lists)%2 == 1 {
			next = append(next, lists[len(lists)-1])
		}
		lists = next
	}
	if len(lists) == 0 {
		return nil
	}
	return lists[0]
}

// mergeTwo merges sorted a and b; less(x, y) reports whether x goes
// strictly before y. Of equal elements, a's go first.
func mergeTwo(a, b []uint64, less func(a, b uint64) bool) []uint64 {
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if less(b[j], a[i]) {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
