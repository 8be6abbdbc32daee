package query

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/like"
)

// pqReaderAt reads a Parquet object by ranges, counting the bytes. It keeps
// ctx: every ReadAt is a range read under it, except those inside tail.
type pqReaderAt struct {
	ctx  context.Context
	lake *loglake.Lake
	key  string
	n    *atomic.Int64
	// tail is the object's bytes from tailOff to its end, fetched with
	// the footer in one range read (readTail); set before the file is
	// opened and never changed, so concurrent readers share it.
	tail    []byte
	tailOff int64
	size    int64
}

// inTail reports whether the bytes [off, off+n) are in r.tail.
func (r *pqReaderAt) inTail(off, n int64) bool {
	return r.tail != nil && off >= r.tailOff && off+n <= r.tailOff+int64(len(r.tail))
}

// pqTailBytes is how much of a Parquet file's end is fetched with its
// footer: the footer, the page index before it and the last column
// chunks of the last row group — a whole small file. One range read in
// place of two or three for the footer and one per chunk it holds.
const pqTailBytes = 64 << 10

// readTail fetches the last min(size, pqTailBytes) bytes of the object.
func (r *pqReaderAt) readTail(size int64) error {
	n := min(size, pqTailBytes)
	buf := getPQBuf(int(n))
	k, err := r.ReadAt(buf, size-n)
	if k < len(buf) {
		putPQBuf(buf)
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	r.tail, r.tailOff, r.size = buf, size-n, size
	return nil
}

// releaseTail gives the tail's buffer back to the pool, once nothing
// reads the file any more.
func (r *pqReaderAt) releaseTail() {
	putPQBuf(r.tail)
	r.tail = nil
}

func (r *pqReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if r.inTail(off, int64(len(p))) {
		return copy(p, r.tail[off-r.tailOff:]), nil
	}
	n, err := r.lake.ReadAt(r.ctx, r.key, p, off)
	r.n.Add(int64(n))
	return n, err
}

// warmParquet starts, once per process, the building of what a process's
// first Parquet read would otherwise build on the query's path: the
// thrift decoders of footers, page headers and offset indexes (made by
// reflection) and a zstd decoder in parquet-go's pool. [New] calls it, so
// it runs while the first query is parsed and planned, on a core that is
// idle then.
func warmParquet() {
	pqWarmOnce.Do(func() {
		go func() {
			var proto thrift.CompactProtocol
			for _, v := range []any{&format.FileMetaData{}, &format.PageHeader{}, &format.OffsetIndex{}} {
				// A bare stop byte: the decoder is built, then fails
				// on a missing required field.
				_ = thrift.NewDecoder(proto.NewReader(bytes.NewReader([]byte{0}))).Decode(v)
			}
			if c := parquet.LookupCompressionCodec(format.Zstd); c != nil {
				_, _ = c.Decode(nil, pqWarmZstd)
			}
			d := getPageDecoder()
			_, _ = d.DecodeAll(pqWarmZstd, make([]byte, 0, 64<<10))
			putPageDecoder(d)
		}()
	})
}

var pqWarmOnce sync.Once

// pqWarmZstd is a small zstd frame (Huffman literals and sequences).
var pqWarmZstd = []byte{0x28, 0xb5, 0x2f, 0xfd, 0x0, 0x0, 0x3d, 0x2, 0x0, 0xe2, 0x43, 0xe, 0x15, 0xa0, 0xc9, 0x0, 0xd8, 0x6f, 0x3, 0x4a,
	0xf4, 0xd4, 0xec, 0xf6, 0x48, 0x1f, 0xd6, 0x3c, 0xb7, 0x40, 0x5, 0x55, 0x5d, 0x3, 0xa9, 0x35, 0x11, 0x9, 0x37, 0x81, 0xeb, 0x51,
	0x58, 0x2b, 0xc9, 0xd1, 0x82, 0x2b, 0xd8, 0x59, 0xf3, 0x7b, 0xb0, 0x13, 0xd4, 0xe1, 0xe7, 0xe2, 0xb3, 0x52, 0xe9, 0xa6, 0x10, 0x1f,
	0x53, 0x47, 0x4e, 0x8d, 0xd5, 0x3, 0x0, 0x42, 0x21, 0x11, 0x42, 0x6d, 0x70, 0x48, 0xe1, 0x2}

// pqHeaderBuf is the read buffer of parquet-go's page readers: page
// headers are parsed out of it, page data is read past it.
const pqHeaderBuf = 4 << 10

// pqWindow is the most bytes of a column chunk a chunkReader holds at once
// and fetches in one read from object storage; from local files it
// fetches pqLocalWindow: fresh memory costs a short-lived process more
// than a few more reads.
const (
	pqWindow      = 1 << 20
	pqLocalWindow = 128 << 10
)

// pqBufs keeps the windows of chunkReaders and the tails of files for
// reuse, by power-of-two size class: up to pqBufsKept of each class, held
// across garbage collections (unlike a sync.Pool), since fresh memory —
// page faults, zeroing, the collections it brings on — costs a cold
// query more than reading the bytes into it.
var pqBufs struct {
	mu   sync.Mutex
	free [bits.UintSize][][]byte
}

// pqBufsKept is how many buffers of each size class pqBufs keeps: about
// one per reader of a few concurrent queries. The largest class is
// pqWindow (but for pages larger than a window), so it keeps a few MiB at
// most.
const pqBufsKept = 8

func getPQBuf(n int) []byte {
	c := bits.Len(uint(n - 1))
	pqBufs.mu.Lock()
	if k := len(pqBufs.free[c]); k > 0 {
		b := pqBufs.free[c][k-1]
		pqBufs.free[c] = pqBufs.free[c][:k-1]
		pqBufs.mu.Unlock()
		return b[:n]
	}
	pqBufs.mu.Unlock()
	return make([]byte, n, 1<<c)
}

func putPQBuf(b []byte) {
	if b == nil || cap(b)&(cap(b)-1) != 0 {
		return
	}
	c := bits.Len(uint(cap(b) - 1))
	pqBufs.mu.Lock()
	if len(pqBufs.free[c]) < pqBufsKept {
		pqBufs.free[c] = append(pqBufs.free[c], b[:cap(b)])
	}
	pqBufs.mu.Unlock()
}

// chunkReader reads one column chunk for a page reader: the byte spans of
// the pages the scan reads (want) are fetched a window of up to pqWindow
// bytes at a time, each byte once when read in order; other reads (the
// object's tail, bytes outside want) go to the object.
type chunkReader struct {
	r      *pqReaderAt
	window int64 // the most bytes fetched at once
	want   []pqSpanRange
	win    []byte
	winOff int64
}

// pqSpanRange is the bytes [from, to) of an object.
type pqSpanRange struct{ from, to int64 }

func (c *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for len(p) > 0 {
		if off >= c.winOff && off < c.winOff+int64(len(c.win)) {
			k := copy(p, c.win[off-c.winOff:])
			n, p, off = n+k, p[k:], off+int64(k)
			continue
		}
		to := c.wantEnd(off)
		if to < 0 || c.r.inTail(off, min(int64(len(p)), to-off)) {
			k, err := c.r.ReadAt(p, off)
			return n + k, err
		}
		if err := c.fetch(off, min(to, off+c.window)); err != nil {
			return n, err
		}
	}
	return n, nil
}

// wantEnd returns the end of the wanted span holding byte off, or -1.
func (c *chunkReader) wantEnd(off int64) int64 {
	i := sort.Search(len(c.want), func(i int) bool { return c.want[i].to > off })
	if i == len(c.want) || c.want[i].from > off {
		return -1
	}
	return c.want[i].to
}

// fetch reads the bytes [off, end) into the window. Bytes the window
// holds already (its end, when off is inside it) are moved, not read
// again.
func (c *chunkReader) fetch(off, end int64) error {
	keep := 0
	if winEnd := c.winOff + int64(len(c.win)); off >= c.winOff && off < winEnd && end > winEnd {
		keep = int(winEnd - off)
	}
	old := c.win
	if end-off > int64(cap(c.win)) {
		c.win = getPQBuf(int(end - off))
		copy(c.win, old[len(old)-keep:])
		putPQBuf(old)
	} else {
		c.win = c.win[:end-off]
		copy(c.win, old[len(old)-keep:])
	}
	c.winOff = off
	if k, err := c.r.ReadAt(c.win[keep:], off+int64(keep)); k < len(c.win)-keep {
		c.win = c.win[:0]
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// bytesAt returns the object's bytes [off, off+n) without copying when
// they are in the tail or in one wanted span (fetching the window from
// off), else read into *scratch. The bytes stay valid until the next
// call.
func (c *chunkReader) bytesAt(off int64, n int, scratch *[]byte) ([]byte, error) {
	if off >= c.winOff && off+int64(n) <= c.winOff+int64(len(c.win)) {
		return c.win[off-c.winOff : off-c.winOff+int64(n)], nil
	}
	if c.r.inTail(off, int64(n)) {
		return c.r.tail[off-c.r.tailOff : off-c.r.tailOff+int64(n)], nil
	}
	if to := c.wantEnd(off); to >= off+int64(n) {
		if err := c.fetch(off, min(to, off+max(c.window, int64(n)))); err != nil {
			return nil, err
		}
		return c.win[:n], nil
	}
	if cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	b := (*scratch)[:n]
	if k, err := c.ReadAt(b, off); k < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

func (c *chunkReader) release() {
	putPQBuf(c.win)
	c.win = nil
}

// chunkPages returns a page reader of column idx of row group rgi that
// fetches the chunk's bytes whole (nil ranges) or those of the pages that
// hold rows of ranges (and the dictionary page), and the function that
// closes it.
//
// With raw, a chunk rawPages can read (rawEligible) is read by it.
func (pf *pqFile) chunkPages(rgi, idx int, ranges []rowRange, raw bool) (pqPages, func(), error) {
	cc := pf.f.RowGroups()[rgi].ColumnChunks()[idx]
	fc, ok := cc.(*parquet.FileColumnChunk)
	if !ok {
		pages := cc.Pages()
		return goPages{pages}, func() { pages.Close() }, nil
	}
	md := &pf.f.Metadata().RowGroups[rgi].Columns[idx].MetaData
	base := md.DataPageOffset
	if md.DictionaryPageOffset != 0 {
		base = md.DictionaryPageOffset
	}
	end := base + md.TotalCompressedSize
	c := &chunkReader{r: pf.ra, window: pqWindow}
	if pf.ra.lake.LocalFiles() {
		c.window = pqLocalWindow
	}
	add := func(from, to int64) {
		if n := len(c.want); n > 0 && c.want[n-1].to >= from {
			c.want[n-1].to = max(c.want[n-1].to, to)
			return
		}
		c.want = append(c.want, pqSpanRange{from, to})
	}
	whole := true
	var index parquet.OffsetIndex
	numRows := pf.f.RowGroups()[rgi].NumRows()
	if ranges != nil {
		oi, err := fc.OffsetIndex()
		if err != nil && loglake.IsNotFound(err) {
			return nil, nil, err
		}
		if err == nil && oi.NumPages() > 0 {
			whole = false
			index = oi
			if md.DictionaryPageOffset != 0 {
				add(base, oi.Offset(0))
			}
			ri := 0
			for k := range oi.NumPages() {
				from, to := oi.FirstRowIndex(k), numRows
				if k+1 < oi.NumPages() {
					to = oi.FirstRowIndex(k + 1)
				}
				for ri < len(ranges) && ranges[ri].to <= from {
					ri++
				}
				if ri < len(ranges) && ranges[ri].from < to {
					add(oi.Offset(k), oi.Offset(k)+oi.CompressedPageSize(k))
				}
			}
		}
	}
	if whole {
		c.want = append(c.want[:0], pqSpanRange{base, end})
	}
	// Spans outside the object (corrupt metadata) are not fetched: the
	// page reader reads them from the object and fails there.
	for _, w := range c.want {
		if w.from < 0 || w.to < w.from || w.to > pf.ra.size {
			c.want = nil
			break
		}
	}
	if col, ok := fc.Node().(*parquet.Column); raw && ok && rawEligible(col, md) && c.want != nil {
		rp := newRawPages(c, col, md, base, end, numRows, index)
		return rp, func() { rp.release(); c.release() }, nil
	}
	pages := fc.PagesFrom(c)
	return goPages{pages}, func() { pages.Close(); c.release() }, nil
}

// pqError classifies an error of reading a Parquet file: vanished objects
// and ctx errors keep their identity (the View retry rule needs the
// former); anything else is corruption.
func pqError(ctx context.Context, key string, err error) error {
	var le *LimitError
	if loglake.IsNotFound(err) || ctx.Err() != nil || errors.As(err, &le) {
		return fmt.Errorf("query: read %s: %w", key, err)
	}
	return loglake.MarkCorrupt("query: parquet "+key, err)
}

// pqLeaf is a column of a Parquet file.
type pqLeaf struct {
	idx   int
	typ   compact.Type // the file's type
	to    compact.Type // the partition's type (values are widened to it)
	scale int64
}

// pqFile is an open Parquet file of a partition and what its scan needs.
type pqFile struct {
	ref    compact.FileRef
	f      *parquet.File
	ra     *pqReaderAt
	leaves map[string]pqLeaf
	need   []string // columns to decode at surviving rows, sorted
	evals  []pqEval // WHERE conjuncts evaluated on their column's pages
	resid  pred     // WHERE conjuncts evaluated row by row; nil for none
	// countOnly: nothing is decoded and nothing evaluated row by row: a
	// count(*) sink takes the surviving rows' number.
	countOnly bool
	// tasks counts the row group reads (parts included) not yet done;
	// the last one releases the tail.
	tasks atomic.Int32
	ts    pqLeaf // the timestamp column, if hasTS
	hasTS bool
}

// openParquet opens a Parquet file (reading its footer) and resolves its
// columns. It returns nil, nil when the file cannot hold a matching row.
func (pt *partTask) openParquet(ctx context.Context, ref compact.FileRef) (*pqFile, error) {
	x := pt.x
	p := x.p
	if pt.skipFile(ref) {
		x.ctr.filesSkipped.Add(1)
		return nil, nil
	}
	ra := &pqReaderAt{ctx: ctx, lake: x.e.lake, key: ref.Key, n: &x.ctr.bytesRead}
	size := ref.Size
	if size <= 0 {
		a, err := x.e.lake.Attributes(ctx, ref.Key)
		if err != nil {
			return nil, fmt.Errorf("query: open %s: %w", ref.Key, err)
		}
		size = a.Size
	}
	// The footer comes from the tail; so does the magic number at the
	// start of a file no larger than the tail (a larger one's is not
	// fetched: its footer's magic number and metadata are checked). The
	// page index is read only where it is used (timePages, split row
	// groups), never for the whole file. Column chunks are fetched by
	// chunkPages, which reads only the bytes of the pages a scan needs:
	// parquet-go's own buffer only parses page headers out of them.
	if err := ra.readTail(size); err != nil {
		return nil, pqError(ctx, ref.Key, err)
	}
	opened := false // row group reads will release the tail
	defer func() {
		if !opened {
			ra.releaseTail()
		}
	}()
	f, err := parquet.OpenFile(ra, size, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true), parquet.ReadBufferSize(pqHeaderBuf),
		parquet.SkipMagicBytes(ra.tailOff > 0))
	if err != nil {
		return nil, pqError(ctx, ref.Key, err)
	}
	x.ctr.objectsOpened.Add(1)
	pf := &pqFile{ref: ref, f: f, ra: ra, leaves: map[string]pqLeaf{}}
	for i, fld := range f.Schema().Fields() {
		if !fld.Leaf() {
			return nil, loglake.MarkCorrupt("query: parquet "+ref.Key, fmt.Errorf("column %q is nested", fld.Name()))
		}
		t, scale, ok := compact.LeafType(fld)
		if !ok {
			return nil, loglake.MarkCorrupt("query: parquet "+ref.Key, fmt.Errorf("column %q has an unsupported type %v", fld.Name(), fld.Type()))
		}
		to := t
		if vt, ok := pt.v.Schema.Lookup(fld.Name()); ok {
			to = vt
		}
		pf.leaves[fld.Name()] = pqLeaf{idx: i, typ: t, to: to, scale: scale}
	}
	// WHERE, column by column: conjuncts on a column the file lacks are
	// decided here (NULL everywhere), those on columns read as stored are
	// evaluated on the column's pages, the others row by row.
	var cur any
	if p.constPred != nil && p.constPred(pt.colGetter("", &cur)) != triTrue {
		x.ctr.filesSkipped.Add(1)
		return nil, nil
	}
	need := map[string]bool{}
	resid := []pred{}
	if p.residual != nil {
		resid = append(resid, p.residual)
	}
	for _, cp := range p.colPreds {
		l, ok := pf.leaves[cp.col]
		switch {
		case !ok:
			if cp.p(pt.colGetter(cp.col, &cur)) != triTrue {
				x.ctr.filesSkipped.Add(1)
				return nil, nil
			}
		case evaluable(l):
			pf.evals = append(pf.evals, pqEval{cp: cp, leaf: l})
		default:
			resid = append(resid, cp.p)
			need[cp.col] = true
		}
	}
	pf.resid = andPreds(resid)
	for name := range pf.leaves {
		if p.all || need[name] {
			pf.need = append(pf.need, name)
		} else if _, ok := slices.BinarySearch(p.pqCols, name); ok {
			pf.need = append(pf.need, name)
		}
	}
	sort.Strings(pf.need)
	pf.countOnly = len(pf.need) == 0 && pf.resid == nil
	pf.ts, pf.hasTS = pf.leaves[TimeColumn]
	pf.hasTS = pf.hasTS && pf.ts.typ == compact.TypeTimestamp && x.tsPrunable
	for rgi := range f.RowGroups() {
		pf.tasks.Add(int32(pt.rowGroupParts(pf, rgi)))
	}
	// The tail is kept for the row group reads only if they read from
	// it: a partition's files are all open at once.
	opened = pf.tasks.Load() > 0 && pf.tailUsed()
	return pf, nil
}

// tailUsed reports whether the scan of pf reads bytes of its tail: a
// column chunk, column index or offset index of a column it reads (the
// timestamp column's included).
func (pf *pqFile) tailUsed() bool {
	ra := pf.ra
	if ra.tail == nil {
		return false
	}
	cols := pf.readColumns()
	if pf.hasTS {
		cols = append(cols, pf.ts.idx)
	}
	in := func(off, n int64) bool {
		return n > 0 && off+n > ra.tailOff && off < ra.tailOff+int64(len(ra.tail))
	}
	for _, rg := range pf.f.Metadata().RowGroups {
		for _, idx := range cols {
			if idx >= len(rg.Columns) {
				continue
			}
			c := &rg.Columns[idx]
			base := c.MetaData.DataPageOffset
			if c.MetaData.DictionaryPageOffset != 0 {
				base = c.MetaData.DictionaryPageOffset
			}
			if in(base, c.MetaData.TotalCompressedSize) || in(c.ColumnIndexOffset, int64(c.ColumnIndexLength)) || in(c.OffsetIndexOffset, int64(c.OffsetIndexLength)) {
				return true
			}
		}
	}
	return false
}

// scanRowGroup reads row group rgi of an open file — all its rows, or
// part part of sp's — into s: it skips it by timestamp statistics,
// evaluates the conjuncts of WHERE that read one column on that column's
// pages (pqFile.evals), and decodes the needed columns only at the rows
// where all are TRUE.
func (pt *partTask) scanRowGroup(ctx context.Context, pf *pqFile, rgi int, sp *rgSplit, part int, s sink) error {
	defer func() {
		if pf.tasks.Add(-1) == 0 {
			pf.ra.releaseTail()
		}
	}()
	x := pt.x
	p := x.p
	if err := ctx.Err(); err != nil {
		return err
	}
	rg := pf.f.RowGroups()[rgi]
	meta := pf.f.Metadata()
	n := rg.NumRows()
	first := part == 0 // counts the row group's stats
	if first {
		x.ctr.rowGroups.Add(1)
		x.ctr.rowsScanned.Add(n)
	}
	chunks := rg.ColumnChunks()
	// skip counts the row group as skipped once every part found no row.
	skip := func() error {
		if first && sp == nil || sp != nil && sp.empty.Add(1) == int32(sp.parts) {
			x.ctr.rowGroupsSkipped.Add(1)
		}
		return nil
	}
	if pf.hasTS && pt.skipRowGroup(chunks[pf.ts.idx], pf.ts.scale) {
		if first {
			x.ctr.rowGroupsSkipped.Add(1)
		}
		return nil
	}
	// With a narrow time range, the timestamp column's page index tells
	// which runs of rows can match; the pages of other rows are never
	// read (ranges nil: every row).
	var ranges []rowRange
	if p.pageIndex && pf.hasTS {
		var skipped int64
		var err error
		ranges, skipped, err = pt.timePages(chunks[pf.ts.idx], pf.ts.scale, n)
		if err != nil {
			return pqError(ctx, pf.ref.Key, err)
		}
		x.ctr.pagesSkipped.Add(skipped)
		if ranges != nil && len(ranges) == 0 {
			x.ctr.rowGroupsSkipped.Add(1)
			return nil
		}
	}
	if sp != nil {
		// One of sp.parts runs of the row group's rows, read by seeking
		// with the offset indexes of the columns read; without them, the
		// first part reads the whole row group.
		ok, err := pf.offsetIndexes(chunks)
		if err != nil {
			return pqError(ctx, pf.ref.Key, err)
		}
		switch {
		case ok:
			b := pf.partBounds(rgi, sp.parts)
			ranges = []rowRange{{b[part], b[part+1]}}
		case first:
			sp = nil
		default:
			return nil
		}
	}
	scr := pqScratchPool.Get().(*pqScratch)
	defer pqScratchPool.Put(scr)
	var cand []int32
	var captured *pqVec // the values of the last column evaluated at cand
	if len(pf.evals) > 0 {
		if cap(scr.sel) < int(n) {
			scr.sel = make([]bool, n)
		}
		sel := scr.sel[:n]
		if ranges == nil {
			for i := range sel {
				sel[i] = true
			}
		} else {
			clear(sel)
			for _, r := range ranges {
				for i := r.from; i < r.to && i < n; i++ {
					sel[i] = true
				}
			}
		}
		// Smallest columns first: they narrow the rows the larger ones
		// are tested at, and a row group none survives reads no more.
		scr.order = scr.order[:0]
		for i := range pf.evals {
			scr.order = append(scr.order, i)
		}
		size := func(i int) int64 {
			return meta.RowGroups[rgi].Columns[pf.evals[i].leaf.idx].MetaData.TotalUncompressedSize
		}
		slices.SortStableFunc(scr.order, func(a, b int) int { return cmp.Compare(size(a), size(b)) })
		// The last column evaluated keeps the values of the rows that
		// survive it, which are the candidates: a column both filtered
		// and decoded is read once.
		last := &pf.evals[scr.order[len(scr.order)-1]]
		if _, ok := slices.BinarySearch(pf.need, last.cp.col); ok && !pf.countOnly {
			captured = &pqVec{}
			captured.reset(last.leaf)
		}
		for _, i := range scr.order {
			ev := &pf.evals[i]
			if err := pt.scannedPart(ranges, sp, n, size(i)); err != nil {
				return err
			}
			var capture **pqVec
			if ev == last {
				capture = &captured
			}
			live, err := pt.evalColumn(pf, rgi, ev, sel, ranges, scr, capture)
			if err != nil {
				return pqError(ctx, pf.ref.Key, err)
			}
			if live == 0 {
				return skip()
			}
		}
		if pf.countOnly {
			if as, ok := s.(*aggSink); ok && as.countOnly() {
				live := 0
				for _, b := range sel {
					if b {
						live++
					}
				}
				x.ctr.rowsMatched.Add(int64(live))
				return as.addCount(int64(live))
			}
		}
		cand = scr.cand[:0]
		for i, b := range sel {
			if b {
				cand = append(cand, int32(i))
			}
		}
		scr.cand = cand
	} else if ranges != nil {
		cand = scr.cand[:0]
		for _, r := range ranges {
			for i := r.from; i < r.to; i++ {
				cand = append(cand, int32(i))
			}
		}
		scr.cand = cand
	}
	if cand == nil && pf.countOnly {
		if as, ok := s.(*aggSink); ok && as.countOnly() {
			x.ctr.rowsMatched.Add(n)
			return as.addCount(n)
		}
	}
	var blk block
	blk.n = int(n)
	if cand != nil {
		blk.n = len(cand)
	}
	for _, name := range pf.need {
		l := pf.leaves[name]
		if captured != nil && name == pf.evals[scr.order[len(scr.order)-1]].cp.col && cand != nil && len(captured.null) == len(cand) {
			blk.add(name, captured) // read by its evaluation
			continue
		}
		if err := pt.scannedPart(ranges, sp, n, meta.RowGroups[rgi].Columns[l.idx].MetaData.TotalUncompressedSize); err != nil {
			return err
		}
		v := &pqVec{}
		if err := v.decode(pf, rgi, l, cand, ranges); err != nil {
			return pqError(ctx, pf.ref.Key, err)
		}
		blk.add(name, v)
	}
	return pt.filterWith(&blk, pf.resid, s)
}

// errRowCount is a column chunk whose pages disagree with its row group's
// number of rows.
var errRowCount = errors.New("column chunk pages disagree with the row group's rows")

// andPreds is the AND of ps; nil for none.
func andPreds(ps []pred) pred {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	return func(get getter) tri {
		r := triTrue
		for _, p := range ps {
			if r = r.and(p(get)); r == triFalse {
				return r
			}
		}
		return r
	}
}

// skipFile reports whether a Parquet file can hold no matching row: its
// time range misses the query's, or (ORDER BY timestamp LIMIT) no row of
// it can enter the result, or it lacks the driving LIKE's column.
func (pt *partTask) skipFile(ref compact.FileRef) bool {
	x, p := pt.x, pt.x.p
	if p.drive != nil && len(ref.Schema) > 0 {
		if _, ok := ref.Schema.Lookup(p.drive.col); !ok {
			return true
		}
	}
	if !x.tsPrunable {
		return false
	}
	ranged := p.fromUS != minInt64 || p.toUS != maxInt64
	thr, hasThr := x.threshold()
	hasThr = hasThr && p.tsOrder != 0
	if ref.MinTime.IsZero() && ref.MaxTime.IsZero() {
		// No row has a time: a time range or a full top-LIMIT excludes all.
		return ref.Rows > 0 && (ranged || hasThr)
	}
	if ranged && (ref.MaxTime.UnixMicro() < p.fromUS || ref.MinTime.UnixMicro() > p.toUS) {
		return true
	}
	if hasThr {
		if p.tsOrder < 0 && ref.MaxTime.Before(thr) || p.tsOrder > 0 && ref.MinTime.After(thr) {
			return true
		}
	}
	return false
}

// skipRowGroup is skipFile for a row group, from the timestamp column
// chunk's statistics.
func (pt *partTask) skipRowGroup(cc parquet.ColumnChunk, scale int64) bool {
	x, p := pt.x, pt.x.p
	fc, ok := cc.(*parquet.FileColumnChunk)
	if !ok {
		return false
	}
	ranged := p.fromUS != minInt64 || p.toUS != maxInt64
	thr, hasThr := x.threshold()
	hasThr = hasThr && p.tsOrder != 0
	if !ranged && !hasThr {
		return false
	}
	lo, hi, ok := fc.Bounds()
	if !ok {
		// No statistics: all nulls if the chunk says so, else unknown.
		return fc.NullCount() == fc.NumValues() && fc.NumValues() > 0
	}
	minUS, maxUS := scaleMicros(lo.Int64(), scale), scaleMicros(hi.Int64(), scale)
	if ranged && (maxUS < p.fromUS || minUS > p.toUS) {
		return true
	}
	if hasThr {
		t := thr.UnixMicro()
		if p.tsOrder < 0 && maxUS < t || p.tsOrder > 0 && minUS > t {
			return true
		}
	}
	return false
}

// rowRange is the rows [from, to) of a row group.
type rowRange struct{ from, to int64 }

// timePages reads the page index of a row group's timestamp column chunk
// and returns the runs of rows whose pages' min/max overlap the query's
// time range, and how many pages do not (all-NULL pages included: a
// range on timestamp is never TRUE for NULL). nil ranges mean that every
// page may match, or that the chunk has no page index.
func (pt *partTask) timePages(cc parquet.ColumnChunk, scale, numRows int64) ([]rowRange, int64, error) {
	p := pt.x.p
	ci, err := cc.ColumnIndex()
	if err != nil {
		if loglake.IsNotFound(err) {
			return nil, 0, err
		}
		return nil, 0, nil // no index (ErrMissingColumnIndex): read every page
	}
	oi, err := cc.OffsetIndex()
	if err != nil {
		if loglake.IsNotFound(err) {
			return nil, 0, err
		}
		return nil, 0, nil
	}
	np := oi.NumPages()
	if ci.NumPages() != np || np == 0 {
		return nil, 0, nil
	}
	ranges := []rowRange{}
	var skipped int64
	for k := range np {
		from := oi.FirstRowIndex(k)
		to := numRows
		if k+1 < np {
			to = oi.FirstRowIndex(k + 1)
		}
		keep := !ci.NullPage(k)
		if keep {
			lo, hi := ci.MinValue(k), ci.MaxValue(k)
			if !lo.IsNull() && !hi.IsNull() {
				minUS, maxUS := scaleMicros(lo.Int64(), scale), scaleMicros(hi.Int64(), scale)
				keep = maxUS >= p.fromUS && minUS <= p.toUS
			}
		}
		if !keep {
			skipped++
			continue
		}
		if n := len(ranges); n > 0 && ranges[n-1].to == from {
			ranges[n-1].to = to
		} else {
			ranges = append(ranges, rowRange{from, to})
		}
	}
	if skipped == 0 {
		return nil, 0, nil
	}
	return ranges, skipped, nil
}

func scaleMicros(v, scale int64) int64 {
	switch {
	case scale > 1:
		return v * scale
	case scale < 0:
		return v / -scale
	}
	return v
}

// matchPlain appends the LIKE result of each value of a plain byte-array
// page (values data[offs[i]:offs[i+1]]); lit is d.lit.
func (d *driveLike) matchPlain(hits []bool, data []byte, offs []uint32, lit *like.Literal) []bool {
	nv := len(offs) - 1
	if nv <= 0 {
		return hits
	}
	base := len(hits)
	if len(d.lit) == 0 || d.not {
		// Slow path: match every value.
		for i := range nv {
			hits = append(hits, d.m.Match(data[offs[i]:offs[i+1]]) != d.not)
		}
		return hits
	}
	// Fast path: one substring search over the page's values; a hit is
	// mapped to its value and only that value is matched.
	for range nv {
		hits = append(hits, false)
	}
	pos := int(offs[0])
	end := int(offs[nv])
	for pos < end {
		k := lit.Index(data[pos:end])
		if k < 0 {
			break
		}
		at := uint32(pos + k)
		// The value holding byte at: the last i with offs[i] <= at.
		i := sort.Search(nv, func(i int) bool { return offs[i+1] > at })
		if i >= nv {
			break
		}
		v := data[offs[i]:offs[i+1]]
		if uint32(len(d.lit))+at <= offs[i+1] && d.m.Match(v) {
			hits[base+i] = true
		}
		pos = int(offs[i+1])
		if pos <= int(at) { // a literal straddling two values: go on after it
			pos = int(at) + 1
		}
	}
	return hits
}

// pqVec holds one column of a row group (or of its candidate rows),
// widened to the partition's type.
type pqVec struct {
	typ   compact.Type
	null  []bool
	i64   []int64
	f64   []float64
	bools []bool
	data  []byte
	offs  []uint32 // value i is data[offs[i]:offs[i+1]]
	buf   []parquet.Value
}

func (v *pqVec) value(i int) any {
	if v.null[i] {
		return nil
	}
	switch v.typ {
	case compact.TypeString, compact.TypeJSON:
		return unsafeString(v.data[v.offs[i]:v.offs[i+1]])
	case compact.TypeInt64:
		return v.i64[i]
	case compact.TypeFloat64:
		return v.f64[i]
	case compact.TypeBool:
		return v.bools[i]
	case compact.TypeTimestamp:
		return time.UnixMicro(v.i64[i]).UTC()
	}
	return nil
}

// decode reads column l of row group rgi into v: every row, or only the
// rows in cand (ascending). With ranges (which hold every candidate),
// pages outside them are not read at all: the reader seeks over them
// with the chunk's offset index.
func (v *pqVec) decode(pf *pqFile, rgi int, l pqLeaf, cand []int32, ranges []rowRange) error {
	cc := pf.f.RowGroups()[rgi].ColumnChunks()[l.idx]
	seek := ranges != nil
	v.reset(l)
	if v.buf == nil {
		v.buf = make([]parquet.Value, 1024)
	}
	if seek && cand != nil {
		if _, err := cc.OffsetIndex(); err != nil {
			seek = false // no offset index: read on
		}
	}
	if !seek || cand == nil {
		ranges = nil
	}
	str := (l.typ == compact.TypeString || l.typ == compact.TypeJSON) && (v.typ == compact.TypeString || v.typ == compact.TypeJSON)
	pages, release, err := pf.chunkPages(rgi, l.idx, ranges, str)
	if err != nil {
		return err
	}
	defer release()
	row := int32(0)
	ci := 0 // next candidate
	for {
		if cand != nil && ci >= len(cand) {
			return nil
		}
		if seek && cand != nil && cand[ci] > row {
			if err := pages.SeekToRow(int64(cand[ci])); err != nil {
				return err
			}
			row = cand[ci]
		}
		page, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		nrows := int32(page.NumRows())
		if cand != nil && cand[ci] >= row+nrows {
			row += nrows // no candidate in this page
			releasePage(page)
			continue
		}
		if v.appendPage(page, l, row, cand, &ci, seek) {
			row += nrows
			releasePage(page)
			continue
		}
		gp, ok := page.(parquet.Page)
		if !ok {
			return errRowCount // rawPages reads only what appendPage takes
		}
		vr := gp.Values()
		for {
			k, err := vr.ReadValues(v.buf)
			for _, pv := range v.buf[:k] {
				if cand != nil {
					if ci >= len(cand) || cand[ci] != row {
						row++
						continue
					}
					ci++
				}
				row++
				v.append(pv, l)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				releasePage(page)
				return err
			}
		}
		releasePage(page)
	}
	if cand != nil && ci < len(cand) {
		return fmt.Errorf("column chunk has %d rows, fewer than candidate row %d", row, cand[ci])
	}
	return nil
}

// reset empties v for the values of leaf l, widened to l.to.
func (v *pqVec) reset(l pqLeaf) {
	v.typ = l.to
	if l.typ == compact.TypeJSON && l.to == compact.TypeString {
		v.typ = compact.TypeString
	}
	v.null, v.i64, v.f64, v.bools, v.data = v.null[:0], v.i64[:0], v.f64[:0], v.bools[:0], v.data[:0]
	v.offs = append(v.offs[:0], 0)
}

// append adds one value, converted from the file's type l.typ to v.typ.
func (v *pqVec) append(pv parquet.Value, l pqLeaf) {
	if pv.IsNull() {
		v.null = append(v.null, true)
		v.i64 = append(v.i64, 0)
		v.f64 = append(v.f64, 0)
		v.bools = append(v.bools, false)
		v.offs = append(v.offs, uint32(len(v.data)))
		return
	}
	var val any
	switch l.typ {
	case compact.TypeString, compact.TypeJSON:
		val = unsafeString(pv.ByteArray())
	case compact.TypeInt64:
		if pv.Kind() == parquet.Int32 {
			val = int64(pv.Int32())
		} else {
			val = pv.Int64()
		}
	case compact.TypeFloat64:
		if pv.Kind() == parquet.Float {
			val = float64(pv.Float())
		} else {
			val = pv.Double()
		}
	case compact.TypeBool:
		val = pv.Boolean()
	case compact.TypeTimestamp:
		val = scaleMicros(pv.Int64(), l.scale)
	}
	v.null = append(v.null, false)
	var i int64
	var f float64
	var b bool
	switch v.typ {
	case compact.TypeString, compact.TypeJSON:
		switch x := val.(type) {
		case string:
			v.data = append(v.data, x...)
		case int64:
			if l.typ == compact.TypeTimestamp {
				v.data = append(v.data, valueText(time.UnixMicro(x).UTC())...)
			} else {
				v.data = append(v.data, valueText(x)...)
			}
		default:
			v.data = append(v.data, valueText(x)...)
		}
	case compact.TypeInt64, compact.TypeTimestamp:
		i, _ = val.(int64)
	case compact.TypeFloat64:
		switch x := val.(type) {
		case int64:
			f = float64(x)
		case float64:
			f = x
		default:
			f = math.NaN()
		}
	case compact.TypeBool:
		b, _ = val.(bool)
	}
	v.i64 = append(v.i64, i)
	v.f64 = append(v.f64, f)
	v.bools = append(v.bools, b)
	v.offs = append(v.offs, uint32(len(v.data)))
}

// appendPage appends the page's values at the candidate rows cand[*ci:]
// (every row for nil cand) straight from its encoded data, advancing *ci;
// row is the page's first row, seek whether the page may be a slice (read
// after a seek). It returns false, appending nothing, for
// pages it has no fast path for (values widened to another type, unknown
// encodings): the caller reads them value by value.
func (v *pqVec) appendPage(page pqPage, l pqLeaf, row int32, cand []int32, ci *int, seek bool) bool {
	if seek && l.typ == compact.TypeBool {
		return false // a sliced boolean page starts at a bit offset its Data does not tell
	}
	if l.typ != v.typ && !(l.typ == compact.TypeJSON && v.typ == compact.TypeString) {
		return false
	}
	nrows := int(page.NumRows())
	def := page.DefinitionLevels()
	if len(def) != 0 && len(def) != nrows {
		return false
	}
	vals := page.Data()
	kind := vals.Kind()
	pd, hasDict := page.Dict()
	var idx []int32
	if hasDict {
		if kind != encoding.Int32 {
			return false
		}
		idx = vals.Int32()
		vals = pd.vals
		kind = vals.Kind()
	}
	var (
		data []byte
		offs []uint32
		i64  []int64
		i32  []int32
		f64  []float64
		f32  []float32
		bits []byte
	)
	switch {
	case (v.typ == compact.TypeString || v.typ == compact.TypeJSON) && kind == encoding.ByteArray:
		data, offs = vals.ByteArray()
	case (v.typ == compact.TypeInt64 || v.typ == compact.TypeTimestamp) && kind == encoding.Int64:
		i64 = vals.Int64()
	case v.typ == compact.TypeInt64 && kind == encoding.Int32:
		i32 = vals.Int32()
	case v.typ == compact.TypeFloat64 && kind == encoding.Double:
		f64 = vals.Double()
	case v.typ == compact.TypeFloat64 && kind == encoding.Float:
		f32 = vals.Float()
	case v.typ == compact.TypeBool && kind == encoding.Boolean && !hasDict:
		bits = vals.Boolean()
	default:
		return false
	}
	if offs == nil && i64 == nil && i32 == nil && f64 == nil && f32 == nil && bits == nil {
		bits = []byte{} // no values at all: only NULLs may follow
		if v.typ != compact.TypeBool {
			offs = []uint32{0}
		}
	}
	// Check the value counts before appending anything.
	nv := nrows
	if len(def) != 0 {
		nv = 0
		for _, d := range def {
			if d != 0 {
				nv++
			}
		}
	}
	nd := nv // values in the value buffer
	if idx != nil {
		if len(idx) < nv {
			return false
		}
		nd = -1
	}
	switch {
	case offs != nil:
		if len(offs) == 0 || nd >= 0 && len(offs) < nd+1 {
			return false
		}
	case i64 != nil:
		if nd >= 0 && len(i64) < nd {
			return false
		}
	case i32 != nil:
		if nd >= 0 && len(i32) < nd {
			return false
		}
	case f64 != nil:
		if nd >= 0 && len(f64) < nd {
			return false
		}
	case f32 != nil:
		if nd >= 0 && len(f32) < nd {
			return false
		}
	case bits != nil:
		if len(bits)*8 < nd {
			return false
		}
	}
	dictLen := -1
	if idx != nil {
		switch {
		case offs != nil:
			dictLen = len(offs) - 1
		case i64 != nil:
			dictLen = len(i64)
		case i32 != nil:
			dictLen = len(i32)
		case f64 != nil:
			dictLen = len(f64)
		case f32 != nil:
			dictLen = len(f32)
		default:
			dictLen = 0
		}
	}
	j := 0 // the next non-NULL value
	for r := range nrows {
		null := len(def) != 0 && def[r] == 0
		if cand != nil {
			if *ci >= len(cand) {
				return true
			}
			if cand[*ci] != row+int32(r) {
				if !null {
					j++
				}
				continue
			}
			*ci++
		}
		if null {
			v.appendNull()
			continue
		}
		k := j
		j++
		if idx != nil {
			k = int(idx[k])
			if k < 0 || k >= dictLen {
				v.appendNull() // a corrupt index reads as NULL
				continue
			}
		}
		var (
			iv int64
			fv float64
			bv bool
		)
		switch {
		case offs != nil:
			v.data = append(v.data, data[offs[k]:offs[k+1]]...)
		case i64 != nil:
			iv = i64[k]
			if v.typ == compact.TypeTimestamp {
				iv = scaleMicros(iv, l.scale)
			}
		case i32 != nil:
			iv = int64(i32[k])
		case f64 != nil:
			fv = f64[k]
		case f32 != nil:
			fv = float64(f32[k])
		case bits != nil:
			bv = bits[k/8]>>(k%8)&1 != 0
		}
		v.null = append(v.null, false)
		v.i64 = append(v.i64, iv)
		v.f64 = append(v.f64, fv)
		v.bools = append(v.bools, bv)
		v.offs = append(v.offs, uint32(len(v.data)))
	}
	return true
}

func (v *pqVec) appendNull() {
	v.null = append(v.null, true)
	v.i64 = append(v.i64, 0)
	v.f64 = append(v.f64, 0)
	v.bools = append(v.bools, false)
	v.offs = append(v.offs, uint32(len(v.data)))
}

// rgSplit is a row group read as parts, runs of its rows, by several
// readers at once.
type rgSplit struct {
	parts int
	empty atomic.Int32 // parts where no row survived
}

// splitRows is the fewest rows of a part of a split row group: below it,
// the extra seeks and the pages read twice (those at the parts' edges)
// cost more than an idle reader.
var splitRows int64 = 16 << 10

// splitBytes is the fewest uncompressed bytes of the column chunks a part
// of a split row group reads: below it, a part's costs (seeks,
// dictionaries read again, buffers and a decompressor of its own, and
// two decompressors sharing a machine's memory bandwidth) outweigh what
// a second reader saves: on 2 cores, a 3 MiB chunk read in two parts
// took as long as read whole, and 30-45% more CPU.
var splitBytes int64 = 4 << 20

// splitFiles: a query that reads splitFiles×Parallelism files or more
// keeps every reader busy with whole row groups; its row groups are not
// split.
var splitFiles = 2

// rowGroupParts returns how many parts row group rgi is read in: one
// per reader for large row groups of a file whose scan seeks (no page
// index ranges) and reads something, in a query that reads few files.
func (pt *partTask) rowGroupParts(pf *pqFile, rgi int) int {
	x := pt.x
	if x.p.pageIndex || len(pf.evals) == 0 && len(pf.need) == 0 {
		return 1
	}
	par := int64(x.e.opts.Parallelism)
	if files := int64(len(x.p.parts)) * int64(max(1, len(pt.v.Parquet))); files >= int64(splitFiles)*par {
		return 1
	}
	var size int64
	cols := pf.f.Metadata().RowGroups[rgi].Columns
	for _, idx := range pf.readColumns() {
		if idx < len(cols) {
			size += max(0, cols[idx].MetaData.TotalUncompressedSize)
		}
	}
	n := pf.f.RowGroups()[rgi].NumRows()
	parts := min(par, n/splitRows)
	if splitBytes > 0 {
		parts = min(parts, size/splitBytes)
	}
	return int(max(1, parts))
}

// partBounds returns the first rows of the parts of row group rgi read in
// parts (and its number of rows last): even shares of its rows, moved to
// the nearest page start of the largest column the scan reads, so that
// no page of that column is read by two parts.
func (pf *pqFile) partBounds(rgi, parts int) []int64 {
	rg := pf.f.RowGroups()[rgi]
	n := rg.NumRows()
	b := make([]int64, parts+1)
	for i := range b {
		b[i] = int64(i) * n / int64(parts)
	}
	cols := pf.f.Metadata().RowGroups[rgi].Columns
	big, bigSize := -1, int64(-1)
	for _, idx := range pf.readColumns() {
		if sz := cols[idx].MetaData.TotalCompressedSize; sz > bigSize {
			big, bigSize = idx, sz
		}
	}
	if big < 0 {
		return b
	}
	oi, err := rg.ColumnChunks()[big].OffsetIndex()
	if err != nil || oi.NumPages() < parts {
		return b
	}
	moved := slices.Clone(b)
	for i := 1; i < parts; i++ {
		best, found := b[i], false
		for k := range oi.NumPages() {
			r := oi.FirstRowIndex(k)
			if r > 0 && r < n && (!found || abs64(r-b[i]) < abs64(best-b[i])) {
				best, found = r, true
			}
		}
		moved[i] = best
	}
	for i := 1; i <= parts; i++ {
		if moved[i] <= moved[i-1] {
			return b // pages too few or uneven: even shares
		}
	}
	return moved
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// readColumns returns the columns (leaf indexes) the scan of pf reads.
func (pf *pqFile) readColumns() []int {
	var out []int
	for _, ev := range pf.evals {
		out = append(out, ev.leaf.idx)
	}
	for _, name := range pf.need {
		out = append(out, pf.leaves[name].idx)
	}
	return out
}

// offsetIndexes reports whether every column chunk the scan reads has an
// offset index (which a split row group seeks with).
func (pf *pqFile) offsetIndexes(chunks []parquet.ColumnChunk) (bool, error) {
	check := func(idx int) (bool, error) {
		_, err := chunks[idx].OffsetIndex()
		switch {
		case err == nil:
			return true, nil
		case loglake.IsNotFound(err):
			return false, err
		}
		return false, nil
	}
	for _, ev := range pf.evals {
		if ok, err := check(ev.leaf.idx); !ok {
			return false, err
		}
	}
	for _, name := range pf.need {
		if ok, err := check(pf.leaves[name].idx); !ok {
			return false, err
		}
	}
	return true, nil
}

// scannedPart counts a column chunk's bytes as scanned (x.scanned): all
// of them for a row group read whole, a part's share of them for a part
// of a split one (the shares add up to the whole).
func (pt *partTask) scannedPart(ranges []rowRange, sp *rgSplit, numRows, n int64) error {
	if sp != nil && len(ranges) == 1 && numRows > 0 {
		r := ranges[0]
		n = n*r.to/numRows - n*r.from/numRows
	}
	return pt.x.scanned(n)
}
