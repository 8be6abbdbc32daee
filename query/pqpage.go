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

// pqPage is what the scans read of a page. A parquet.Page has it, and so
// has rawPage, a page rawPages decodes itself.
type pqPage interface {
	NumRows() int64
	DefinitionLevels() []byte
	Data() encoding.Values
	Dictionary() parquet.Dictionary
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
	return pg, nil
}

// releasePage gives a page read through goPages back to parquet-go.
func releasePage(p pqPage) {
	if pp, ok := p.(parquet.Page); ok {
		parquet.Release(pp)
	}
}

// rawPages reads the data pages of a BYTE_ARRAY column chunk that has no
// dictionary, no repetition and at most one definition level (every
// string column loglake's compaction writes without a dictionary, such
// as long paths): page headers are decoded in place from the fetched
// bytes, each page is decompressed into one buffer reused for the whole
// chunk, and its values are decoded in place there (DELTA_LENGTH_BYTE_ARRAY)
// or into a second buffer (PLAIN).
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
}

var rawPageBufsPool = sync.Pool{New: func() any { return new(rawPageBufs) }}

// rawPage is a page decoded by rawPages; it is valid until the next
// ReadPage.
type rawPage struct {
	rows int64
	def  []byte
	data []byte
	offs []uint32
}

func (p *rawPage) NumRows() int64                 { return p.rows }
func (p *rawPage) DefinitionLevels() []byte       { return p.def }
func (p *rawPage) Data() encoding.Values          { return encoding.ByteArrayValues(p.data, p.offs) }
func (p *rawPage) Dictionary() parquet.Dictionary { return nil }
func (p *rawPages) SeekToRow(row int64) error     { p.target = row; return nil }
func (p *rawPages) release()                      { rawPageBufsPool.Put(p.bufs) }
func (p *rawPages) fail(err error) (pqPage, error) {
	return nil, fmt.Errorf("page at %d: %w", p.pos, err)
}

// errRawPage marks a page rawPages does not read: it contradicts the
// chunk's metadata, so the file is corrupt.
var errRawPage = errors.New("page does not match its column chunk's metadata")

// rawEligible reports whether rawPages reads chunk md of column col.
func rawEligible(col *parquet.Column, md *format.ColumnMetaData) bool {
	if md.Type != format.ByteArray || md.DictionaryPageOffset != 0 || col.MaxRepetitionLevel() != 0 || col.MaxDefinitionLevel() > 1 {
		return false
	}
	if md.Codec != format.Uncompressed && md.Codec != format.Zstd {
		return false
	}
	for _, e := range md.Encoding {
		switch e {
		case format.Plain, format.DeltaLengthByteArray, format.RLE:
		default:
			return false
		}
	}
	return true
}

func newRawPages(c *chunkReader, col *parquet.Column, md *format.ColumnMetaData, base, end, numRows int64, oi parquet.OffsetIndex) *rawPages {
	p := &rawPages{c: c, oi: oi, maxDef: col.MaxDefinitionLevel(), pos: base, end: end, numRows: numRows}
	p.zstd = md.Codec == format.Zstd
	p.rd = (&thrift.CompactProtocol{}).NewReaderFromBytes(nil)
	p.dec = thrift.NewDecoder(p.rd)
	p.bufs = rawPageBufsPool.Get().(*rawPageBufs)
	return p
}

func (p *rawPages) ReadPage() (pqPage, error) {
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
			if bf.def, err = decodeDefLevels(bf.def, body[rl:rl+dl], nv); err != nil {
				return err
			}
			def = bf.def
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
			if bf.def, err = decodeDefLevels(bf.def, data[4:4+n], nv); err != nil {
				return err
			}
			def = bf.def
			data = data[4+n:]
		}
		vals = data
		enc = h.Encoding
	}
	nonNull := nv
	if def != nil {
		nonNull = 0
		for _, d := range def {
			nonNull += int(d)
		}
	}
	switch enc {
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
	p.page = rawPage{rows: rows, def: def, data: data, offs: bf.offs}
	return nil
}

// slice drops the page's first n rows.
func (pg *rawPage) slice(n int) {
	nn := n
	if pg.def != nil {
		nn = 0
		for _, d := range pg.def[:n] {
			nn += int(d)
		}
		pg.def = pg.def[n:]
	}
	pg.offs = pg.offs[nn:]
	pg.rows -= int64(n)
}

var (
	plainBytes       plain.Encoding
	deltaLengthBytes delta.LengthByteArrayEncoding
	defLevels        = rle.Encoding{BitWidth: bits.Len(1)}
)

// decodeDefLevels decodes n definition levels (0 or 1) from src into dst.
func decodeDefLevels(dst, src []byte, n int) ([]byte, error) {
	if err := checkHybrid(src, 1, n); err != nil {
		return dst, err
	}
	dst, err := defLevels.DecodeLevels(dst[:0], src)
	if err != nil {
		return dst, err
	}
	if len(dst) < n {
		return dst, fmt.Errorf("%w: %d definition levels for %d values", errRawPage, len(dst), n)
	}
	dst = dst[:n]
	for _, d := range dst {
		if d > 1 {
			return dst, fmt.Errorf("%w: definition level %d", errRawPage, d)
		}
	}
	return dst, nil
}

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
