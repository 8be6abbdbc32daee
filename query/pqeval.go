package query

import (
	"bytes"
	"io"
	"sync"

	"github.com/parquet-go/parquet-go"
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
		dict parquet.Dictionary
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
		switch pd := page.Dictionary(); {
		case pd != nil:
			if pd != dict {
				dict = pd
				dictHit = dictHit[:0]
				for i := range pd.Len() {
					v := pd.Index(int32(i))
					var h bool
					switch {
					case isStr:
						h = testBytes(v.ByteArray())
					case l.typ == compact.TypeInt64 && v.Kind() == parquet.Int32:
						h = testInt(int64(v.Int32()))
					case l.typ == compact.TypeInt64:
						h = testInt(v.Int64())
					case l.typ == compact.TypeBool:
						h = boolRes[b2i(v.Boolean())]
					}
					dictHit = append(dictHit, h)
				}
			}
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
		if capture != nil && *capture != nil {
			pc := scr.pcand[:0]
			for r, b := range ps {
				if b {
					pc = append(pc, int32(row+r))
				}
			}
			scr.pcand = pc
			ci := 0
			if len(pc) > 0 && (!(*capture).appendPage(page, l, int32(row), pc, &ci, ranges != nil) || ci != len(pc)) {
				*capture = nil
			}
		}
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

// keepDict is keep for dictionary indexes idx: a non-NULL row stays when
// its entry's dictHit is set (an index out of range is corrupt: FALSE).
func keepDict(ps []bool, def []byte, nullOK bool, idx []int32, dictHit []bool) {
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
