package query

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/klauspost/compress/zstd"
	"hash/crc32"
	"io"
	"math/bits"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/plain"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// pqPage is what the scans read of a page: a parquet.Page (goPage) or a
// page rawPages decodes itself (rawPage).
type pqPage interface {
	NumRows() int64
	DefinitionLevels() []byte
	// Data returns the page's non-NULL values, or their dictionary
	// indexes (Int32) when the page has a dictionary.
	Data() encoding.Values
	// Dict returns the page's dictionary; ok is false for a page
	// without one.
	Dict() (d pqDict, ok bool)
}

// pqDict is a page's dictionary.
type pqDict struct {
	vals encoding.Values
	n    int // values in vals
	key  any // the same for the pages that share the dictionary
}

// pqPages reads the pages of a column chunk: parquet-go's reader
// (goPages) or rawPages.
type pqPages interface {
	// ReadPage returns the next page, io.EOF after the last. After
	// SeekToRow(r) the page returned starts at row r.
	ReadPage() (pqPage, error)
	SeekToRow(row int64) error
}

// goPages is parquet-go's page reader as a pqPages.
type goPages struct{ parquet.Pages }

func (p goPages) ReadPage() (pqPage, error) {
	pg, err := p.Pages.ReadPage()
	if err != nil {
		return nil, err
	}
	return &goPage{pg}, nil
}

// goPage is a page read by parquet-go.
type goPage struct{ parquet.Page }

func (p *goPage) Dict() (pqDict, bool) {
	d := p.Page.Dictionary()
	if d == nil {
		return pqDict{}, false
	}
	return pqDict{vals: d.Page().Data(), n: d.Len(), key: d}, true
}

// releasePage gives a page read through goPages back to parquet-go.
func releasePage(p pqPage) {
	if gp, ok := p.(*goPage); ok {
		parquet.Release(gp.Page)
	}
}

// rawPages reads the data pages of a BYTE_ARRAY column chunk that has no
// repetition and at most one definition level (every string column
// loglake's compaction writes: long paths without a dictionary, repeated
// values with one): page headers are decoded in place from the fetched
// bytes, each page is decompressed into one buffer reused for the whole
// chunk, and its values are decoded in place there (DELTA_LENGTH_BYTE_ARRAY)
// or into a second buffer (PLAIN, and the dictionary page's values); a
// dictionary-encoded page's indexes are decoded into a third, reused too.
//
// parquet-go's reader copies each page through a bufio.Reader and
// decompresses and decodes it into fresh pooled buffers: for a search of
// one column in a short-lived process (a Lambda, a CLI run) the fresh
// memory, page faults and collections it brings cost more than the
// decompression itself.
type rawPages struct {
	c       *chunkReader
	oi      parquet.OffsetIndex // nil: pages are walked header by header
	zstd    bool                // else uncompressed
	maxDef  int
	pos     int64 // the next page's header
	end     int64 // the chunk's end
	row     int64 // the next page's first row
	numRows int64
	target  int64 // rows before target are skipped (SeekToRow)
	k       int   // with oi: the next page's index
	// dictPos is the dictionary page's offset (0: none); dict its
	// values once read.
	dictPos  int64
	dictRead bool
	dict     rawDict

	rd   thrift.BytesReader
	dec  *thrift.Decoder
	hdr  format.PageHeader
	page rawPage
	bufs *rawPageBufs
}

// rawPageBufs are rawPages' buffers, pooled across chunks.
type rawPageBufs struct {
	body    []byte // decompressed page
	vals    []byte // decoded values
	offs    []uint32
	def     []byte
	scratch []byte // page bytes that are in no window
	idx     []int32
	dict    []byte // the dictionary's values
	dictOff []uint32
}

// rawDict is the dictionary of a chunk rawPages reads.
type rawDict struct {
	data []byte
	offs []uint32
}

var rawPageBufsPool = sync.Pool{New: func() any { return new(rawPageBufs) }}

// rawPage is a page decoded by rawPages; it is valid until the next
// ReadPage.
type rawPage struct {
	rows int64
	// defEnc are the encoded definition levels (checked by
	// countDefined), nil for a column without NULLs; def are they
	// expanded, in *defBuf, once asked for; skip rows of them are
	// dropped (slice).
	defEnc []byte
	def    []byte
	defBuf *[]byte
	skip   int
	data   []byte
	offs   []uint32
	dict   *rawDict // nil unless the page is dictionary-encoded
	idx    []int32  // with dict: one index per non-NULL row
}

func (p *rawPage) NumRows() int64 { return p.rows }
func (p *rawPage) DefinitionLevels() []byte {
	if p.defEnc != nil && p.def == nil {
		*p.defBuf = expandDefLevels((*p.defBuf)[:0], p.defEnc, p.skip+int(p.rows))
		p.def = (*p.defBuf)[p.skip:]
	}
	return p.def
}
func (p *rawPage) Data() encoding.Values {
	if p.dict != nil {
		return encoding.Int32Values(p.idx)
	}
	return encoding.ByteArrayValues(p.data, p.offs)
}
func (p *rawPage) Dict() (pqDict, bool) {
	if p.dict == nil {
		return pqDict{}, false
	}
	return pqDict{vals: encoding.ByteArrayValues(p.dict.data, p.dict.offs), n: len(p.dict.offs) - 1, key: p.dict}, true
}
func (p *rawPages) SeekToRow(row int64) error { p.target = row; return nil }
func (p *rawPages) release()                  { rawPageBufsPool.Put(p.bufs) }
func (p *rawPages) fail(err error) (pqPage, error) {
	return nil, fmt.Errorf("page at %d: %w", p.pos, err)
}

// errRawPage marks a page rawPages does not read: it contradicts the
// chunk's metadata, so the file is corrupt.
var errRawPage = errors.New("page does not match its column chunk's metadata")

// rawEligible reports whether rawPages reads chunk md of column col. A
// chunk with dictionary-encoded pages must say where its dictionary page
// is (some writers leave it at the first data page's offset instead).
func rawEligible(col *parquet.Column, md *format.ColumnMetaData) bool {
	if md.Type != format.ByteArray || col.MaxRepetitionLevel() != 0 || col.MaxDefinitionLevel() > 1 {
		return false
	}
	if md.Codec != format.Uncompressed && md.Codec != format.Zstd {
		return false
	}
	for _, e := range md.Encoding {
		switch e {
		case format.Plain, format.DeltaLengthByteArray, format.RLE:
		case format.RLEDictionary, format.PlainDictionary:
			if md.DictionaryPageOffset == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func newRawPages(c *chunkReader, col *parquet.Column, md *format.ColumnMetaData, base, end, numRows int64, oi parquet.OffsetIndex) *rawPages {
	p := &rawPages{c: c, oi: oi, maxDef: col.MaxDefinitionLevel(), pos: base, end: end, numRows: numRows, dictPos: md.DictionaryPageOffset}
	p.zstd = md.Codec == format.Zstd
	p.rd = (&thrift.CompactProtocol{}).NewReaderFromBytes(nil)
	p.dec = thrift.NewDecoder(p.rd)
	p.bufs = rawPageBufsPool.Get().(*rawPageBufs)
	return p
}

func (p *rawPages) ReadPage() (pqPage, error) {
	if p.dictPos != 0 && !p.dictRead {
		// The dictionary comes first, also when the pages before the
		// target are skipped.
		if err := p.readDict(); err != nil {
			return p.fail(err)
		}
	}
	if p.target > p.row && p.oi != nil {
		// Jump to the page holding the target row.
		for p.k+1 < p.oi.NumPages() && p.oi.FirstRowIndex(p.k+1) <= p.target {
			p.k++
			p.pos, p.row = p.oi.Offset(p.k), p.oi.FirstRowIndex(p.k)
		}
	}
	for {
		if p.pos >= p.end || p.row >= p.numRows {
			return nil, io.EOF
		}
		body, err := p.header()
		if err != nil {
			return p.fail(err)
		}
		var rows int64
		switch {
		case p.hdr.Type == format.DictionaryPage:
			return p.fail(fmt.Errorf("%w: a second dictionary page", errRawPage))
		case p.hdr.Type == format.DataPageV2 && p.hdr.DataPageHeaderV2.Valid:
			rows = int64(p.hdr.DataPageHeaderV2.V.NumRows)
		case p.hdr.Type == format.DataPage && p.hdr.DataPageHeader.Valid:
			rows = int64(p.hdr.DataPageHeader.V.NumValues)
		default:
			return p.fail(fmt.Errorf("%w: page type %v", errRawPage, p.hdr.Type))
		}
		if rows <= 0 || rows > p.numRows-p.row {
			return p.fail(errRowCount)
		}
		next := p.pos + int64(len(body))
		first := p.row
		p.pos, p.row = next, p.row+rows
		if p.oi != nil {
			p.k++
		}
		if p.row <= p.target {
			continue // wholly before the target: not decoded
		}
		if err := p.decode(body, rows); err != nil {
			return nil, fmt.Errorf("page at row %d: %w", first, err)
		}
		if skip := p.target - first; skip > 0 {
			p.page.slice(int(skip))
		}
		return &p.page, nil
	}
}

// readDict reads the chunk's dictionary page, at p.dictPos.
func (p *rawPages) readDict() error {
	at := p.pos
	p.pos = p.dictPos
	b, err := p.header()
	if err != nil {
		return err
	}
	if at == p.dictPos {
		at += int64(len(b))
	}
	p.pos = at
	h := &p.hdr.DictionaryPageHeader
	if p.hdr.Type != format.DictionaryPage || !h.Valid {
		return fmt.Errorf("%w: page type %v where the dictionary page is", errRawPage, p.hdr.Type)
	}
	if h.V.Encoding != format.Plain && h.V.Encoding != format.PlainDictionary {
		return fmt.Errorf("%w: dictionary encoding %v", errRawPage, h.V.Encoding)
	}
	body := b[len(b)-int(p.hdr.CompressedPageSize):]
	if p.hdr.CRC != 0 && uint32(p.hdr.CRC) != crc32.ChecksumIEEE(body) {
		return fmt.Errorf("%w: crc32 checksum mismatch", parquet.ErrCorrupted)
	}
	bf := p.bufs
	if p.zstd {
		if bf.body, err = decompressPage(bf.body, body, int(p.hdr.UncompressedPageSize)); err != nil {
			return err
		}
		body = bf.body
	}
	if bf.dict, bf.dictOff, err = plainBytes.DecodeByteArray(bf.dict, body, bf.dictOff); err != nil {
		return err
	}
	n := len(bf.dictOff) - 1
	if len(bf.dictOff) == 0 {
		n = 0
		bf.dictOff = append(bf.dictOff, 0)
	}
	if n != int(h.V.NumValues) {
		return fmt.Errorf("%w: dictionary of %d values, its header says %d", errRawPage, n, h.V.NumValues)
	}
	p.dict = rawDict{data: bf.dict, offs: bf.dictOff}
	p.dictRead = true
	return nil
}

// header decodes the page header at p.pos into p.hdr and returns the
// page's bytes, header included.
func (p *rawPages) header() ([]byte, error) {
	avail := p.end - p.pos
	if to := p.c.wantEnd(p.pos); to > p.pos {
		avail = min(avail, to-p.pos)
	}
	for n := min(avail, 4<<10); ; n = min(avail, n*8) {
		b, err := p.c.bytesAt(p.pos, int(n), &p.bufs.scratch)
		if err != nil {
			return nil, err
		}
		p.rd.ResetBytes(b)
		p.hdr = format.PageHeader{}
		err = p.dec.Decode(&p.hdr)
		if err != nil {
			if n < avail {
				continue // the header is longer than n bytes
			}
			return nil, fmt.Errorf("page header: %w", err)
		}
		hl := p.rd.BytesRead()
		if p.hdr.CompressedPageSize < 0 || p.hdr.UncompressedPageSize < 0 || int64(hl)+int64(p.hdr.CompressedPageSize) > p.end-p.pos {
			return nil, fmt.Errorf("%w: page of %d bytes past the chunk's end", errRawPage, p.hdr.CompressedPageSize)
		}
		total := hl + int(p.hdr.CompressedPageSize)
		if total <= len(b) {
			return b[:total], nil
		}
		// The header's fields alias b: decode them again from the
		// page's bytes.
		if b, err = p.c.bytesAt(p.pos, total, &p.bufs.scratch); err != nil {
			return nil, err
		}
		p.rd.ResetBytes(b)
		p.hdr = format.PageHeader{}
		if err := p.dec.Decode(&p.hdr); err != nil {
			return nil, fmt.Errorf("page header: %w", err)
		}
		return b, nil
	}
}

// decode decodes the data page in b (header included) of rows rows into
// p.page.
func (p *rawPages) decode(b []byte, rows int64) error {
	body := b[len(b)-int(p.hdr.CompressedPageSize):]
	if p.hdr.CRC != 0 && uint32(p.hdr.CRC) != crc32.ChecksumIEEE(body) {
		return fmt.Errorf("%w: crc32 checksum mismatch", parquet.ErrCorrupted)
	}
	bf := p.bufs
	var (
		def      []byte
		vals     []byte
		enc      format.Encoding
		nv       = int(rows)
		err      error
		maxBytes = int(p.hdr.UncompressedPageSize)
		own      bool // vals is in bf.body, not in bytes others may read
	)
	if p.hdr.Type == format.DataPageV2 {
		h := &p.hdr.DataPageHeaderV2.V
		if int64(h.NumValues) != rows {
			return errRowCount // no repetition: one value per row
		}
		rl, dl := int(h.RepetitionLevelsByteLength), int(h.DefinitionLevelsByteLength)
		if rl < 0 || dl < 0 || rl+dl > len(body) || rl+dl > maxBytes {
			return fmt.Errorf("%w: level lengths %d+%d", errRawPage, rl, dl)
		}
		if p.maxDef > 0 {
			def = body[rl : rl+dl]
		}
		vals = body[rl+dl:]
		if p.zstd && (!h.IsCompressed.Valid || h.IsCompressed.V) {
			if bf.body, err = decompressPage(bf.body, vals, maxBytes-rl-dl); err != nil {
				return err
			}
			vals, own = bf.body, true
		}
		enc = h.Encoding
	} else {
		h := &p.hdr.DataPageHeader.V
		data := body
		if p.zstd {
			if bf.body, err = decompressPage(bf.body, body, maxBytes); err != nil {
				return err
			}
			data, own = bf.body, true
		}
		if p.maxDef > 0 {
			if h.DefinitionLevelEncoding != format.RLE || len(data) < 4 {
				return fmt.Errorf("%w: definition levels", errRawPage)
			}
			n := int(uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24)
			if n < 0 || n > len(data)-4 {
				return fmt.Errorf("%w: definition levels of %d bytes", errRawPage, n)
			}
			def = data[4 : 4+n]
			data = data[4+n:]
		}
		vals = data
		enc = h.Encoding
	}
	// def holds the encoded definition levels (nil: none); they are
	// expanded when asked for (rawPage.DefinitionLevels).
	nonNull := nv
	if def != nil {
		if nonNull, err = countDefined(def, nv); err != nil {
			return err
		}
	}
	switch enc {
	case format.RLEDictionary, format.PlainDictionary:
		return p.decodeIndexes(vals, rows, def, nonNull)
	case format.Plain:
		bf.vals, bf.offs, err = plainBytes.DecodeByteArray(bf.vals, vals, bf.offs)
	case format.DeltaLengthByteArray:
		dst := bf.vals
		if own {
			// The values end the page: decode them in place.
			if n := deltaLengthBytes.EstimateDecodeByteArraySize(vals); n >= 0 && n <= len(vals) {
				dst = vals[len(vals)-n : len(vals)-n]
			}
		}
		var out []byte
		out, bf.offs, err = deltaLengthBytes.DecodeByteArray(dst, vals, bf.offs)
		if own && err == nil {
			p.page = rawPage{data: out}
		} else {
			bf.vals = out
		}
	default:
		return fmt.Errorf("%w: encoding %v", errRawPage, enc)
	}
	if err != nil {
		return err
	}
	if len(bf.offs) != nonNull+1 && !(nonNull == 0 && len(bf.offs) == 0) {
		return errRowCount
	}
	if len(bf.offs) == 0 {
		bf.offs = append(bf.offs, 0)
	}
	data := bf.vals
	if enc == format.DeltaLengthByteArray && own {
		data = p.page.data
	}
	p.page = rawPage{rows: rows, defEnc: def, defBuf: &bf.def, data: data, offs: bf.offs}
	return nil
}

// decodeIndexes decodes the dictionary indexes of a data page's nonNull
// values from vals (a bit width, then RLE/bit-packed runs) into p.page.
func (p *rawPages) decodeIndexes(vals []byte, rows int64, def []byte, nonNull int) error {
	if !p.dictRead {
		return fmt.Errorf("%w: dictionary-encoded page without a dictionary", errRawPage)
	}
	bf := p.bufs
	idx := bf.idx[:0]
	if nonNull > 0 {
		if len(vals) == 0 {
			return errRowCount
		}
		if err := checkHybrid(vals[1:], uint(vals[0]), nonNull); err != nil {
			return err
		}
		var err error
		if idx, err = dictIndexes.DecodeInt32(idx, vals); err != nil {
			return err
		}
		bf.idx = idx
		if len(idx) < nonNull {
			return errRowCount
		}
		idx = idx[:nonNull]
		n := uint32(len(p.dict.offs) - 1)
		var bad uint32
		for _, i := range idx {
			bad |= b2u32(uint32(i) >= n)
		}
		if bad != 0 {
			return fmt.Errorf("%w: dictionary index out of range", errRawPage)
		}
	}
	p.page = rawPage{rows: rows, defEnc: def, defBuf: &bf.def, dict: &p.dict, idx: idx}
	return nil
}

// slice drops the page's first n rows.
func (pg *rawPage) slice(n int) {
	nn := n
	if pg.defEnc != nil {
		nn = 0
		for _, d := range pg.DefinitionLevels()[:n] {
			nn += int(d)
		}
		pg.def = pg.def[n:]
		pg.skip += n
	}
	if pg.dict != nil {
		pg.idx = pg.idx[nn:]
	} else {
		pg.offs = pg.offs[nn:]
	}
	pg.rows -= int64(n)
}

var (
	plainBytes       plain.Encoding
	deltaLengthBytes delta.LengthByteArrayEncoding
	dictIndexes      rle.DictionaryEncoding
)

// countDefined checks the RLE/bit-packed hybrid runs of n definition
// levels (0 or 1) in src and returns how many are 1. What it accepts,
// defRuns walks and expandDefLevels expands without fail.
func countDefined(src []byte, n int) (int, error) {
	if err := checkHybrid(src, 1, n); err != nil {
		return 0, err
	}
	ones, total := 0, 0
	for r := (defRuns{src: src, left: n}); r.left > 0; {
		v, c, packed, ok := r.next()
		if !ok {
			return 0, fmt.Errorf("%w: %d definition levels for %d values", errRawPage, total, n)
		}
		if packed == nil {
			if v > 1 {
				return 0, fmt.Errorf("%w: definition level %d", errRawPage, v)
			}
			ones += int(v) * c
		} else {
			for k, b := range packed {
				if k == len(packed)-1 && c%8 != 0 {
					b &= 1<<(c%8) - 1 // the padding of the last group
				}
				ones += bits.OnesCount8(b)
			}
		}
		total += c
	}
	return ones, nil
}

// defRuns walks the runs of definition levels (bit width 1) that
// countDefined checked, up to left values.
type defRuns struct {
	src  []byte
	left int
}

// next returns the next run, clipped to the values left: c values v (an
// RLE run; packed nil) or c values bit-packed in packed, the first in
// the lowest bit. ok is false when src ends first.
func (r *defRuns) next() (v byte, c int, packed []byte, ok bool) {
	for len(r.src) > 0 {
		h, k := binary.Uvarint(r.src)
		if k <= 0 {
			return 0, 0, nil, false
		}
		r.src = r.src[k:]
		if h&1 == 0 {
			if len(r.src) == 0 {
				return 0, 0, nil, false
			}
			v = r.src[0]
			r.src = r.src[1:]
			c = int(min(h>>1, uint64(r.left)))
			if c == 0 {
				continue
			}
			r.left -= c
			return v, c, nil, true
		}
		groups := h >> 1
		if groups > uint64(len(r.src)) {
			return 0, 0, nil, false
		}
		c = int(min(8*groups, uint64(r.left)))
		packed = r.src[:(c+7)/8]
		r.src = r.src[groups:]
		if c == 0 {
			continue
		}
		r.left -= c
		return 0, c, packed, true
	}
	return 0, 0, nil, false
}

// expandDefLevels appends the n definition levels of src (checked by
// countDefined) to dst, one byte each.
func expandDefLevels(dst, src []byte, n int) []byte {
	for r := (defRuns{src: src, left: n}); r.left > 0; {
		v, c, packed, ok := r.next()
		if !ok {
			break
		}
		if packed == nil {
			for range c {
				dst = append(dst, v)
			}
			continue
		}
		for k, b := range packed {
			m := bitBytes[b]
			if c-8*k >= 8 {
				dst = binary.LittleEndian.AppendUint64(dst, m)
				continue
			}
			for i := range c - 8*k {
				dst = append(dst, byte(m>>(8*i)))
			}
		}
	}
	return dst
}

// bitBytes[b] has byte i set to bit i of b.
var bitBytes = func() (t [256]uint64) {
	for b := range t {
		for i := range 8 {
			t[b] |= uint64(b>>i&1) << (8 * i)
		}
	}
	return t
}()

// checkHybrid checks that the RLE/bit-packed hybrid runs of values of bit
// width bw in src hold n values (and the padding of a last bit-packed
// run) but not more: a run's header can claim billions of values in a
// few bytes, which parquet-go's decoders would write out.
func checkHybrid(src []byte, bw uint, n int) error {
	if bw > 32 {
		return fmt.Errorf("%w: bit width %d", errRawPage, bw)
	}
	total := uint64(0)
	for len(src) > 0 && total < uint64(n) {
		h, k := binary.Uvarint(src)
		if k <= 0 {
			return fmt.Errorf("%w: run-length header", errRawPage)
		}
		src = src[k:]
		if h&1 == 0 { // a run of one value
			total += h >> 1
			src = src[min(len(src), int(bw+7)/8):]
			continue
		}
		groups := h >> 1 // bit-packed: groups of 8 values
		if groups > uint64(len(src)) {
			return fmt.Errorf("%w: bit-packed run of %d groups", errRawPage, groups)
		}
		total += 8 * groups
		src = src[min(len(src), int(groups)*int(bw)):]
	}
	if total > uint64(n)+7 {
		return fmt.Errorf("%w: runs of %d values for %d", errRawPage, total, n)
	}
	return nil
}

// decompressPage decompresses zstd page src into dst; it must come out
// size bytes long. Memory is allocated for the size the header claims
// only when the frame states the same size (a frame that states another
// is corrupt); a page never decompresses into more than maxPageBytes.
func decompressPage(dst, src []byte, size int) ([]byte, error) {
	if size < 0 || size > maxPageBytes {
		return dst, fmt.Errorf("%w: uncompressed page size %d", errRawPage, size)
	}
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return dst, fmt.Errorf("decompressing page: %w", err)
	}
	if h.HasFCS {
		if h.FrameContentSize != uint64(size) {
			return dst, fmt.Errorf("%w: zstd frame of %d bytes in a page of %d", errRawPage, h.FrameContentSize, size)
		}
		if cap(dst) < size {
			dst = make([]byte, 0, size+size/8) // room for the next, slightly larger pages
		}
	}
	d := getPageDecoder()
	out, err := d.DecodeAll(src, dst[:0])
	putPageDecoder(d)
	if err != nil {
		return dst, fmt.Errorf("decompressing page: %w", err)
	}
	if len(out) != size {
		return out, fmt.Errorf("%w: page decompressed to %d bytes, not %d", errRawPage, len(out), size)
	}
	return out, nil
}

// maxPageBytes is the largest uncompressed page rawPages reads.
const maxPageBytes = 64 << 20

// pageDecoders keeps the decoders of the pages rawPages reads, each used
// by one reader at a time: decoders taken from one shared zstd.Decoder by
// concurrent readers decompressed these pages at half the speed, and so
// did a decoder limited to its destination's capacity
// (WithDecodeAllCapLimit). A page's output is bounded instead by
// maxPageBytes (WithDecoderMaxMemory) and by its frame's stated size.
var pageDecoders struct {
	mu   sync.Mutex
	free []*zstd.Decoder
}

// pageDecodersKept is how many idle decoders pageDecoders keeps.
const pageDecodersKept = 8

func getPageDecoder() *zstd.Decoder {
	pageDecoders.mu.Lock()
	if n := len(pageDecoders.free); n > 0 {
		d := pageDecoders.free[n-1]
		pageDecoders.free = pageDecoders.free[:n-1]
		pageDecoders.mu.Unlock()
		return d
	}
	pageDecoders.mu.Unlock()
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxPageBytes))
	if err != nil {
		panic(err) // only for invalid options
	}
	return d
}

func putPageDecoder(d *zstd.Decoder) {
	pageDecoders.mu.Lock()
	defer pageDecoders.mu.Unlock()
	if len(pageDecoders.free) < pageDecodersKept {
		pageDecoders.free = append(pageDecoders.free, d)
		return
	}
	d.Close()
}
