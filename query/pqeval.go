package query

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go/encoding"

	"github.com/loglake/loglake/compact"
)

// pqEval is a colPred evaluated on a Parquet file's column.
type pqEval struct {
	cp   *colPred
	leaf pqLeaf
}

// evaluable reports whether the conjuncts on a column of file type l.typ
// can be evaluated on its pages: values read as they are stored (no
// widening to the partition's type), of a kind with a fast path.
func evaluable(l pqLeaf) bool {
	same := l.typ == l.to || l.typ == compact.TypeJSON && l.to == compact.TypeString
	switch l.typ {
	case compact.TypeString, compact.TypeJSON, compact.TypeBool, compact.TypeInt64:
		return same
	}
	return false
}

// pqScratch is the buffers of one row group's scan, reused through a pool
// by the readers.
type pqScratch struct {
	sel     []bool // per row of the row group: every column evaluated so far is TRUE
	hits    []bool
	dictHit []bool
	hv      []byte // keepDictRuns' hits of a page's values
	cand    []int32
	pcand   []int32 // a page's rows kept, for capture
	order   []int
}

var pqScratchPool = sync.Pool{New: func() any { return new(pqScratch) }}

// constGetter returns a getter of tenant_id and dt, and of col holding
// *cur; other columns are NULL.
func (pt *partTask) colGetter(col string, cur *any) getter {
	return func(c string) any {
		switch c {
		case TenantColumn:
			return pt.tenant
		case DayColumn:
			return pt.day
		case col:
			return *cur
		}
		return nil
	}
}

// evalColumn evaluates ev's conjuncts on column chunk cc and clears sel at
// the rows where they are not TRUE. It returns how many rows of sel stay
// set. With ranges, pages wholly outside them are not read (sel is clear
// there already).
//
// With capture, the values of the rows that stay set are appended to
// *capture (see pqVec.reset), page by page; *capture becomes nil if a page
// cannot be captured.
func (pt *partTask) evalColumn(pf *pqFile, rgi int, ev *pqEval, sel []bool, ranges []rowRange, scr *pqScratch, capture **pqVec) (int, error) {
	cc := pf.f.RowGroups()[rgi].ColumnChunks()[ev.leaf.idx]
	cp, l := ev.cp, ev.leaf
	var cur any
	get := pt.colGetter(cp.col, &cur)
	test := func(v any) bool {
		cur = v
		return cp.p(get) == triTrue
	}
	nullOK := test(nil)
	isStr := l.typ == compact.TypeString || l.typ == compact.TypeJSON
	testBytes := func(b []byte) bool {
		switch {
		case cp.like != nil:
			return cp.like.m.Match(b) != cp.like.not
		case cp.hasEq:
			return bytes.Equal(b, cp.eq)
		}
		return test(unsafeString(b))
	}
	testInt := func(v int64) bool {
		if cp.i64 != nil {
			return cp.i64(v)
		}
		return test(v)
	}
	var boolRes [2]bool
	if l.typ == compact.TypeBool {
		boolRes = [2]bool{test(false), test(true)}
	}

	if l.typ == compact.TypeBool {
		// A page read after a seek is a slice of the page, and a slice of
		// a boolean page starts at a bit offset its Data does not tell:
		// boolean chunks are small, read them whole (sel is clear outside
		// ranges already).
		ranges = nil
	}
	if ranges != nil {
		if _, err := cc.OffsetIndex(); err != nil {
			return 0, err
		}
	}
	pages, release, err := pf.chunkPages(rgi, l.idx, ranges, isStr)
	if err != nil {
		return 0, err
	}
	defer release()
	var (
		dict any // the key of the dictionary dictHit is for
		row  int // first row of the page
		ri   int
	)
	dictHit := scr.dictHit[:0]
	defer func() { scr.dictHit = dictHit }()
	for {
		if ranges != nil {
			for ri < len(ranges) && ranges[ri].to <= int64(row) {
				ri++
			}
			if ri == len(ranges) {
				break
			}
			if r := int(ranges[ri].from); r > row {
				if err := pages.SeekToRow(int64(r)); err != nil {
					return 0, err
				}
				row = r
			}
		}
		page, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		nrows := int(page.NumRows())
		if row+nrows > len(sel) {
			releasePage(page)
			return 0, errRowCount
		}
		ps := sel[row : row+nrows]
		any := false
		for _, b := range ps {
			if b {
				any = true
				break
			}
		}
		if !any {
			row += nrows
			releasePage(page)
			continue
		}
		pd, hasDict := page.Dict()
		if hasDict && pd.key != dict {
			dict = pd.key
			dictHit = dictHits(dictHit[:0], pd, l.typ, testBytes, testInt, boolRes)
		}
		if rp, ok := page.(*rawPage); ok && hasDict && rp.defEnc != nil && rp.skip == 0 {
			// Straight from the encoded levels, the common case of a
			// dictionary-encoded string column read by rawPages.
			scr.hv = keepDictRuns(ps, rp.defEnc, nullOK, rp.idx, dictHit, scr.hv)
			capturePage(capture, page, l, row, ps, ranges != nil, scr)
			row += nrows
			continue
		}
		def := page.DefinitionLevels()
		if len(def) != 0 && len(def) != nrows {
			releasePage(page)
			return 0, errRowCount
		}
		vals := page.Data()
		j := 0 // the next non-NULL value
		// keep applies hit(j) to the non-NULL rows and nullOK to the others.
		keep := func(hit func(j int) bool) {
			for r := range ps {
				if len(def) != 0 && def[r] == 0 {
					ps[r] = ps[r] && nullOK
					continue
				}
				if ps[r] && !hit(j) {
					ps[r] = false
				}
				j++
			}
		}
		switch {
		case hasDict:
			keepDict(ps, def, nullOK, vals.Int32(), dictHit)
		case isStr:
			data, offs := vals.ByteArray()
			if cp.lit != nil && !cp.like.not {
				// Dense selections: one literal search over the page.
				nsel := 0
				for _, b := range ps {
					if b {
						nsel++
					}
				}
				if nsel*4 >= nrows {
					scr.hits = cp.like.matchPlain(scr.hits[:0], data, offs, cp.lit)
					keepHits(ps, def, nullOK, scr.hits)
					break
				}
			}
			keep(func(j int) bool {
				return j+1 < len(offs) && testBytes(data[offs[j]:offs[j+1]])
			})
		case l.typ == compact.TypeBool:
			keepBits(ps, def, nullOK, vals.Boolean(), boolRes)
		case l.typ == compact.TypeInt64 && vals.Kind() == encoding.Int32:
			v32 := vals.Int32()
			keep(func(j int) bool { return j < len(v32) && testInt(int64(v32[j])) })
		case l.typ == compact.TypeInt64:
			v64 := vals.Int64()
			keep(func(j int) bool { return j < len(v64) && testInt(v64[j]) })
		default:
			releasePage(page)
			return 0, errRowCount
		}
		capturePage(capture, page, l, row, ps, ranges != nil, scr)
		row += nrows
		releasePage(page)
	}
	// Rows past the chunk's pages (or past the ranges) were never
	// evaluated: they cannot be TRUE.
	if ranges == nil && row != len(sel) {
		return 0, errRowCount
	}
	live := 0
	for _, b := range sel {
		if b {
			live++
		}
	}
	return live, nil
}

// capturePage appends the values of page at the rows ps keeps to
// *capture, if set; when it cannot take them from the page it clears
// *capture (the rows are read later value by value).
func capturePage(capture **pqVec, page pqPage, l pqLeaf, row int, ps []bool, seek bool, scr *pqScratch) {
	if capture == nil || *capture == nil {
		return
	}
	pc := scr.pcand[:0]
	for r, b := range ps {
		if b {
			pc = append(pc, int32(row+r))
		}
	}
	scr.pcand = pc
	ci := 0
	if len(pc) > 0 && (!(*capture).appendPage(page, l, int32(row), pc, &ci, seek) || ci != len(pc)) {
		*capture = nil
	}
}

// keepDictRuns is keepDict for a page whose definition levels are still
// encoded (defEnc, checked by countDefined): the runs of NULLs are
// applied a run or eight rows at a time, and the dictionary is looked up
// only for the rows with a value. hv is scratch space, returned for
// reuse.
func keepDictRuns(ps []bool, defEnc []byte, nullOK bool, idx []int32, dictHit []bool, hv []byte) []byte {
	hit := boolBytes(dictHit)
	hv = hv[:0]
	for _, i := range idx { // in range: decodeIndexes checked them
		hv = append(hv, hit[i])
	}
	sel := boolBytes(ps)
	null := b2u8(nullOK)
	nullFill := uint64(null) * 0x0101010101010101
	r, j := 0, 0
	for runs := (defRuns{src: defEnc, left: len(sel)}); runs.left > 0; {
		v, c, packed, ok := runs.next()
		if !ok {
			break // countDefined checked the runs: not reached
		}
		switch {
		case packed == nil && v == 0:
			for k := range sel[r : r+c] {
				sel[r+k] &= null
			}
			r += c
		case packed == nil:
			for k, h := range hv[j : j+c] {
				sel[r+k] &= h
			}
			r, j = r+c, j+c
		default:
			for _, b := range packed {
				n := min(8, c)
				if n < 8 {
					b &= 1<<n - 1
				}
				switch {
				case n == 8 && b == 0xff: // eight values
					x := binary.LittleEndian.Uint64(sel[r:])
					binary.LittleEndian.PutUint64(sel[r:], x&binary.LittleEndian.Uint64(hv[j:]))
					j, b = j+8, 0
				case n == 8:
					// Bytes of NULL rows take nullOK, the others
					// stay for their value (sel's bytes are 0 or 1).
					x := binary.LittleEndian.Uint64(sel[r:])
					m := bitBytes[b]
					binary.LittleEndian.PutUint64(sel[r:], x&(m|nullFill))
				default:
					for k := range n {
						if b>>k&1 == 0 {
							sel[r+k] &= null
						}
					}
				}
				for ; b != 0; b &= b - 1 {
					sel[r+bits.TrailingZeros8(b)] &= hv[j]
					j++
				}
				r += n
				c -= n
			}
		}
	}
	return hv
}

// dictHits appends to dst whether each value of dictionary d, of a column
// of type typ, passes the test for its kind (FALSE for values of a kind
// the column's type does not have).
func dictHits(dst []bool, d pqDict, typ compact.Type, testBytes func([]byte) bool, testInt func(int64) bool, boolRes [2]bool) []bool {
	isStr := typ == compact.TypeString || typ == compact.TypeJSON
	vals := d.vals
	switch k := vals.Kind(); {
	case isStr && k == encoding.ByteArray:
		data, offs := vals.ByteArray()
		for i := range min(d.n, len(offs)-1) {
			dst = append(dst, testBytes(data[offs[i]:offs[i+1]]))
		}
	case typ == compact.TypeInt64 && k == encoding.Int32:
		for _, v := range vals.Int32()[:min(d.n, len(vals.Int32()))] {
			dst = append(dst, testInt(int64(v)))
		}
	case typ == compact.TypeInt64 && k == encoding.Int64:
		for _, v := range vals.Int64()[:min(d.n, len(vals.Int64()))] {
			dst = append(dst, testInt(v))
		}
	case typ == compact.TypeBool && k == encoding.Boolean:
		bits := vals.Boolean()
		for i := range min(d.n, 8*len(bits)) {
			dst = append(dst, boolRes[bits[i/8]>>(i%8)&1])
		}
	}
	for len(dst) < d.n {
		dst = append(dst, false)
	}
	return dst
}

// keepDict is keep for dictionary indexes idx: a non-NULL row stays when
// its entry's dictHit is set (an index out of range is corrupt: FALSE).
// Pages without NULLs whose indexes are all in range take a loop without
// a branch on the rows' outcomes, which are as random as the data (pages
// with encoded levels take keepDictRuns); any other page the row-by-row
// one.
func keepDict(ps []bool, def []byte, nullOK bool, idx []int32, dictHit []bool) {
	if len(def) != 0 || len(idx) < len(ps) {
		keepDictSlow(ps, def, nullOK, idx, dictHit)
		return
	}
	idx = idx[:len(ps)]
	n := uint32(len(dictHit))
	var bad uint32
	for _, i := range idx {
		bad |= b2u32(uint32(i) >= n)
	}
	if bad != 0 {
		keepDictSlow(ps, def, nullOK, idx, dictHit)
		return
	}
	hit, sel := boolBytes(dictHit), boolBytes(ps)
	for r, i := range idx {
		sel[r] &= hit[i]
	}
}

// keepDictSlow is keepDict row by row, for any page.
func keepDictSlow(ps []bool, def []byte, nullOK bool, idx []int32, dictHit []bool) {
	j := 0
	for r := range ps {
		if len(def) != 0 && def[r] == 0 {
			ps[r] = ps[r] && nullOK
			continue
		}
		if ps[r] {
			ps[r] = j < len(idx) && uint32(idx[j]) < uint32(len(dictHit)) && dictHit[idx[j]]
		}
		j++
	}
}

// keepHits is keep for hits, one per non-NULL value.
func keepHits(ps []bool, def []byte, nullOK bool, hits []bool) {
	j := 0
	for r := range ps {
		if len(def) != 0 && def[r] == 0 {
			ps[r] = ps[r] && nullOK
			continue
		}
		if ps[r] {
			ps[r] = j < len(hits) && hits[j]
		}
		j++
	}
}

// keepBits is keep for booleans packed in bits, res the result of each.
func keepBits(ps []bool, def []byte, nullOK bool, bits []byte, res [2]bool) {
	j := 0
	for r := range ps {
		if len(def) != 0 && def[r] == 0 {
			ps[r] = ps[r] && nullOK
			continue
		}
		if ps[r] {
			ps[r] = j/8 < len(bits) && res[(bits[j/8]>>(j%8))&1]
		}
		j++
	}
}

// b2u8 is b as a byte, 0 or 1, without a branch.
func b2u8(b bool) uint8 {
	return *(*uint8)(unsafe.Pointer(&b))
}

// b2u32 is b as 0 or 1.
func b2u32(b bool) uint32 { return uint32(b2u8(b)) }

// boolBytes views bools as bytes, each 0 or 1.
func boolBytes(b []bool) []byte {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b))
}
