package compact

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Column chunks are encoded here, straight from a run's Arrow arrays in
// the run's time order to Parquet pages: no per-value parquet.Value, no
// intermediate column buffer. parquet-go's general writer spent about a
// quarter of a compaction's CPU on that path before any compression. What
// is written is what that writer wrote for these columns, so readers see
// no difference:
//
//   - data pages v2, zstd, a CRC32 of every page, statistics in every page
//     header (min, max, null count);
//   - OPTIONAL flat columns: definition levels are one RLE/bit-packed run
//     list of bit width 1, never compressed (v2);
//   - strings and JSON: RLE_DICTIONARY with a PLAIN dictionary page where
//     the run's sample says values repeat (usesDictionary), else
//     DELTA_LENGTH_BYTE_ARRAY; a dictionary past dictMaxBytes (8 MiB) in one chunk
//     gives up and the chunk is written without one;
//   - int64: RLE_DICTIONARY or PLAIN, as strings; timestamps
//     DELTA_BINARY_PACKED; doubles and booleans PLAIN;
//   - the page index: a column index (byte arrays cut to
//     columnIndexPrefix bytes, as parquet-go and parquet-java do) and an
//     offset index for every chunk.

// columnIndexPrefix is the longest byte-array min or max kept in a column
// index (parquet-go's and parquet-java's default). Page headers and chunk
// statistics keep whole values.
const columnIndexPrefix = 16

// encChunk is one encoded column chunk of one row group. Offsets in md
// and oi are relative to the chunk's first byte until the file writer
// places it.
type encChunk struct {
	dict  []byte // dictionary page with its header; nil: none
	pages []byte // data pages with their headers
	md    format.ColumnMetaData
	ci    format.ColumnIndex
	oi    format.OffsetIndex
}

// chunkEncoder encodes column chunks. Its buffers are reused from chunk to
// chunk; it is not safe for concurrent use.
type chunkEncoder struct {
	codec     *zstdCodec
	pageBytes int
	dictMax   int // the largest dictionary (PLAIN bytes) a chunk may have

	defs  []byte   // definition level of each row of the chunk
	strs  [][]byte // non-null values in row order, by type
	ints  []int64
	dbls  []float64
	bools []bool

	// Dictionary of the chunk: ids[i] is the id of non-null value i.
	ids   []int32
	sdict map[string]int32
	idict map[int64]int32
	dstrs [][]byte // string dictionary values by id
	dints []int64  // int64 dictionary values by id
	rank  []int32  // rank[id]: the position of value id in sort order
	byRk  []int32  // byRk[rank]: the id of that rank

	lens  []int32 // a page's string lengths
	vals  []byte  // a page's encoded values
	lvls  []byte  // a page's encoded definition levels
	comp  []byte  // a page's compressed values
	tmp   []byte  // a page's encoded string lengths
	hdr   bytes.Buffer
	thr   *thrift.Encoder
	proto thrift.CompactProtocol
}

func newChunkEncoder(codec *zstdCodec, pageBytes, dictMax int) *chunkEncoder {
	e := &chunkEncoder{codec: codec, pageBytes: pageBytes, dictMax: dictMax}
	e.thr = thrift.NewEncoder(e.proto.NewWriter(&e.hdr))
	return e
}

// release drops what the encoder refers to in a run's arrays.
// Only the used part needs clearing: the rest was cleared by an earlier
// release.
func (e *chunkEncoder) release() {
	clear(e.strs)
	clear(e.dstrs)
	clear(e.sdict)
}

// colSource is one column of a run: srcs[k] is part k's array, nil where
// the part has no such column.
type colSource struct {
	srcs []arrow.Array
	t    Type
}

// gather fills defs and the typed values of rows order. It returns the
// number of nulls.
func (e *chunkEncoder) gather(col colSource, order []uint64) (nulls int) {
	n := len(order)
	e.defs = grow(e.defs[:0], n)[:n]
	valid := make([][]byte, len(col.srcs)) // nil: every value set
	absent := make([]bool, len(col.srcs))
	for k, a := range col.srcs {
		switch {
		case a == nil:
			absent[k] = true
		case a.NullN() > 0:
			valid[k] = a.NullBitmapBytes()
		}
	}
	present := func(k, r int) bool {
		return !absent[k] && (valid[k] == nil || bitutil.BitIsSet(valid[k], r))
	}
	defs := e.defs
	for i, ref := range order {
		if present(int(ref>>32), int(uint32(ref))) {
			defs[i] = 1
		} else {
			defs[i] = 0
			nulls++
		}
	}
	switch col.t {
	case TypeString, TypeJSON:
		offs := make([][]int32, len(col.srcs))
		data := make([][]byte, len(col.srcs))
		for k, a := range col.srcs {
			if a != nil {
				s := a.(*array.String)
				offs[k], data[k] = s.ValueOffsets(), s.ValueBytes()
			}
		}
		strs := grow(e.strs[:0], n-nulls)
		for i, ref := range order {
			if defs[i] != 0 {
				k, r := int(ref>>32), int(uint32(ref))
				o := offs[k]
				strs = append(strs, data[k][o[r]-o[0]:o[r+1]-o[0]:o[r+1]-o[0]])
			}
		}
		e.strs = strs
	case TypeInt64, TypeTimestamp:
		vs := make([][]int64, len(col.srcs))
		for k, a := range col.srcs {
			switch a := a.(type) {
			case *array.Int64:
				vs[k] = a.Int64Values()
			case *array.Timestamp:
				v := a.TimestampValues()
				vs[k] = unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
			}
		}
		e.ints = gatherNums(e.ints, vs, order, defs, n-nulls)
	case TypeFloat64:
		vs := make([][]float64, len(col.srcs))
		for k, a := range col.srcs {
			if a != nil {
				vs[k] = a.(*array.Float64).Float64Values()
			}
		}
		e.dbls = gatherNums(e.dbls, vs, order, defs, n-nulls)
	case TypeBool:
		bs := make([]*array.Boolean, len(col.srcs))
		for k, a := range col.srcs {
			if a != nil {
				bs[k] = a.(*array.Boolean)
			}
		}
		bools := grow(e.bools[:0], n-nulls)
		for i, ref := range order {
			if defs[i] != 0 {
				bools = append(bools, bs[ref>>32].Value(int(uint32(ref))))
			}
		}
		e.bools = bools
	}
	return nulls
}

// gatherNums returns dst[:0] with the values vs[k][r] of the rows order
// whose defs are set (nv of them), ref = k<<32 | r.
func gatherNums[T int64 | float64](dst []T, vs [][]T, order []uint64, defs []byte, nv int) []T {
	dst = grow(dst[:0], nv)
	for i, ref := range order {
		if defs[i] != 0 {
			dst = append(dst, vs[ref>>32][uint32(ref)])
		}
	}
	return dst
}

// buildDict gives every value of the chunk its dictionary id. It reports
// false (and the chunk goes without a dictionary) when the dictionary's
// PLAIN form would pass e.dictMax.
func (e *chunkEncoder) buildDict(t Type) bool {
	size := 0
	switch t {
	case TypeString, TypeJSON:
		if e.sdict == nil {
			e.sdict = make(map[string]int32)
		}
		clear(e.sdict)
		e.dstrs = e.dstrs[:0]
		e.ids = grow(e.ids[:0], len(e.strs))[:len(e.strs)]
		for i, b := range e.strs {
			s := unsafe.String(unsafe.SliceData(b), len(b))
			id, ok := e.sdict[s]
			if !ok {
				id = int32(len(e.dstrs))
				if size += 4 + len(b); size > e.dictMax {
					return false
				}
				e.sdict[s] = id
				e.dstrs = append(e.dstrs, b)
			}
			e.ids[i] = id
		}
	case TypeInt64:
		if e.idict == nil {
			e.idict = make(map[int64]int32)
		}
		clear(e.idict)
		e.dints = e.dints[:0]
		e.ids = grow(e.ids[:0], len(e.ints))[:len(e.ints)]
		for i, v := range e.ints {
			id, ok := e.idict[v]
			if !ok {
				id = int32(len(e.dints))
				if size += 8; size > e.dictMax {
					return false
				}
				e.idict[v] = id
				e.dints = append(e.dints, v)
			}
			e.ids[i] = id
		}
	default:
		return false
	}
	// Rank the dictionary's values, so that a page's min and max are found
	// by comparing integers.
	n := len(e.dstrs)
	if t == TypeInt64 {
		n = len(e.dints)
	}
	e.byRk = grow(e.byRk[:0], n)[:n]
	for i := range e.byRk {
		e.byRk[i] = int32(i)
	}
	if t == TypeInt64 {
		slices.SortFunc(e.byRk, func(a, b int32) int { return cmp.Compare(e.dints[a], e.dints[b]) })
	} else {
		slices.SortFunc(e.byRk, func(a, b int32) int { return bytes.Compare(e.dstrs[a], e.dstrs[b]) })
	}
	e.rank = grow(e.rank[:0], n)[:n]
	for r, id := range e.byRk {
		e.rank[id] = int32(r)
	}
	return true
}

// pageStats are a page's bounds, in Parquet's PLAIN form of one value;
// nil when the page holds no value.
type pageStats struct{ min, max []byte }

// encode encodes rows order of col as one column chunk named name. dict
// asks for dictionary encoding (which a large dictionary turns down).
func (e *chunkEncoder) encode(name string, col colSource, order []uint64, dict bool) (*encChunk, error) {
	defer e.release()
	nulls := e.gather(col, order)
	nv := len(order) - nulls
	useDict := dict && nv > 0 && (col.t == TypeString || col.t == TypeJSON || col.t == TypeInt64) && e.buildDict(col.t)

	ch := &encChunk{}
	md := &ch.md
	md.Type = physicalType(col.t)
	md.PathInSchema = []string{name}
	md.Codec = format.Zstd
	md.NumValues = int64(len(order))
	md.Statistics.NullCount = int64(nulls)
	enc := valueEncoding(col.t)
	if useDict {
		enc = format.RLEDictionary
	}
	switch enc {
	case format.RLEDictionary:
		md.Encoding = []format.Encoding{format.Plain, format.RLE, format.RLEDictionary}
	case format.Plain:
		md.Encoding = []format.Encoding{format.Plain, format.RLE}
	default:
		md.Encoding = []format.Encoding{format.RLE, enc}
	}

	if useDict {
		if err := e.dictPage(ch, col.t); err != nil {
			return nil, err
		}
	}

	// Pages: a page ends once its values' PLAIN size (4 bytes an index for
	// a dictionary) reaches pageBytes.
	var (
		chunkMin, chunkMax []byte
		asc, desc          = true, true
		prevMin, prevMax   []byte
		dataPages          int32
	)
	vi := 0 // index of the page's first value in the typed slices
	for lo := 0; lo < len(order); {
		hi, vhi, size := lo, vi, 0
		for hi < len(order) && size < e.pageBytes {
			if e.defs[hi] != 0 {
				switch {
				case useDict:
					size += 4
				case col.t == TypeString || col.t == TypeJSON:
					size += 4 + len(e.strs[vhi])
				case col.t == TypeBool:
					if vhi%8 == 0 { // a byte for eight values
						size++
					}
				default:
					size += 8
				}
				vhi++
			}
			hi++
		}
		st, err := e.dataPage(ch, col.t, enc, lo, hi, vi, vhi)
		if err != nil {
			return nil, err
		}
		dataPages++
		pageNulls := (hi - lo) - (vhi - vi)
		ch.ci.NullCounts = append(ch.ci.NullCounts, int64(pageNulls))
		if st.min == nil {
			ch.ci.NullPages = append(ch.ci.NullPages, true)
			ch.ci.MinValues = append(ch.ci.MinValues, []byte{})
			ch.ci.MaxValues = append(ch.ci.MaxValues, []byte{})
		} else {
			ch.ci.NullPages = append(ch.ci.NullPages, false)
			// Copies: string bounds point into the run's arrays.
			imin, imax := st.min, st.max
			if md.Type == format.ByteArray {
				imin, imax = slices.Clone(cutMin(st.min)), slices.Clone(cutMax(st.max))
			}
			ch.ci.MinValues = append(ch.ci.MinValues, imin)
			ch.ci.MaxValues = append(ch.ci.MaxValues, imax)
			nan := col.t == TypeFloat64 && math.IsNaN(math.Float64frombits(binary.LittleEndian.Uint64(st.min)))
			// The boundary order is that of the index's own bounds.
			if nan {
				asc, desc = false, false
			} else if prevMin != nil {
				c1, c2 := compareStat(col.t, prevMin, imin), compareStat(col.t, prevMax, imax)
				asc = asc && c1 <= 0 && c2 <= 0
				desc = desc && c1 >= 0 && c2 >= 0
			}
			prevMin, prevMax = imin, imax
			if !nan { // a page of only NaN bounds nothing
				if chunkMin == nil || compareStat(col.t, st.min, chunkMin) < 0 {
					chunkMin = st.min
				}
				if chunkMax == nil || compareStat(col.t, st.max, chunkMax) > 0 {
					chunkMax = st.max
				}
			}
		}
		lo, vi = hi, vhi
	}
	switch {
	case prevMin == nil || !asc && !desc:
		ch.ci.BoundaryOrder = format.Unordered
	case asc:
		ch.ci.BoundaryOrder = format.Ascending
	default:
		ch.ci.BoundaryOrder = format.Descending
	}
	if chunkMin != nil {
		md.Statistics.MinValue = slices.Clone(chunkMin)
		md.Statistics.MaxValue = slices.Clone(chunkMax)
	}
	md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DataPageV2, Encoding: enc, Count: dataPages})
	return ch, nil
}

// physicalType is the Parquet physical type of t.
func physicalType(t Type) format.Type {
	switch t {
	case TypeString, TypeJSON:
		return format.ByteArray
	case TypeFloat64:
		return format.Double
	case TypeBool:
		return format.Boolean
	default:
		return format.Int64
	}
}

// valueEncoding is the encoding of t's data pages without a dictionary.
func valueEncoding(t Type) format.Encoding {
	switch t {
	case TypeString, TypeJSON:
		return format.DeltaLengthByteArray
	case TypeTimestamp:
		return format.DeltaBinaryPacked
	default:
		return format.Plain
	}
}

// compareStat compares two PLAIN-encoded values of t.
func compareStat(t Type, a, b []byte) int {
	switch t {
	case TypeString, TypeJSON:
		return bytes.Compare(a, b)
	case TypeFloat64:
		x, y := math.Float64frombits(binary.LittleEndian.Uint64(a)), math.Float64frombits(binary.LittleEndian.Uint64(b))
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case TypeBool:
		return int(a[0]) - int(b[0])
	default:
		return cmp.Compare(int64(binary.LittleEndian.Uint64(a)), int64(binary.LittleEndian.Uint64(b)))
	}
}

// cutMin returns a prefix of v of at most columnIndexPrefix bytes: a lower
// bound of v.
func cutMin(v []byte) []byte {
	if len(v) > columnIndexPrefix {
		v = v[:columnIndexPrefix]
	}
	return v
}

// cutMax returns an upper bound of v of at most columnIndexPrefix bytes:
// its prefix with the last byte that can be incremented incremented; v
// itself when no such prefix exists (all 0xFF).
func cutMax(v []byte) []byte {
	if len(v) <= columnIndexPrefix {
		return v
	}
	p := slices.Clone(v[:columnIndexPrefix])
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xFF {
			p[i]++
			return p[:i+1]
		}
	}
	return v
}

// dictPage writes the chunk's dictionary page.
func (e *chunkEncoder) dictPage(ch *encChunk, t Type) error {
	vals := e.vals[:0]
	var n int
	if t == TypeInt64 {
		n = len(e.dints)
		vals = append(vals, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(e.dints))), 8*n)...)
	} else {
		n = len(e.dstrs)
		for _, b := range e.dstrs {
			vals = binary.LittleEndian.AppendUint32(vals, uint32(len(b)))
			vals = append(vals, b...)
		}
	}
	e.vals = vals
	comp, err := e.codec.Encode(e.comp, vals)
	if err != nil {
		return fmt.Errorf("compress dictionary page: %w", err)
	}
	e.comp = comp
	h := format.PageHeader{
		Type:                 format.DictionaryPage,
		UncompressedPageSize: int32(len(vals)),
		CompressedPageSize:   int32(len(comp)),
		CRC:                  int32(crc32.ChecksumIEEE(comp)),
		DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{NumValues: int32(n), Encoding: format.Plain}),
	}
	if err := e.header(&h); err != nil {
		return err
	}
	ch.dict = make([]byte, 0, e.hdr.Len()+len(comp))
	ch.dict = append(append(ch.dict, e.hdr.Bytes()...), comp...)
	ch.md.TotalUncompressedSize += int64(e.hdr.Len() + len(vals))
	ch.md.TotalCompressedSize += int64(len(ch.dict))
	ch.md.EncodingStats = append(ch.md.EncodingStats, format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1})
	return nil
}

// header encodes h into e.hdr.
func (e *chunkEncoder) header(h *format.PageHeader) error {
	e.hdr.Reset()
	if err := e.thr.Encode(h); err != nil {
		return fmt.Errorf("encode page header: %w", err)
	}
	return nil
}

// dataPage encodes rows [lo, hi) of the chunk, values [vlo, vhi), as one
// data page appended to ch.pages, and returns its bounds.
func (e *chunkEncoder) dataPage(ch *encChunk, t Type, enc format.Encoding, lo, hi, vlo, vhi int) (pageStats, error) {
	n, nv := hi-lo, vhi-vlo
	// Definition levels: one RLE run when the page has no null.
	lv := e.lvls[:0]
	if nv == n {
		lv = binary.AppendUvarint(lv, uint64(n)<<1)
		lv = append(lv, 1)
	} else {
		var err error
		if lv, err = (&rle.Encoding{BitWidth: 1}).EncodeLevels(lv, e.defs[lo:hi]); err != nil {
			return pageStats{}, fmt.Errorf("encode definition levels: %w", err)
		}
	}
	e.lvls = lv

	var st pageStats
	vals := e.vals[:0]
	var err error
	switch enc {
	case format.RLEDictionary:
		ids := e.ids[vlo:vhi]
		if vals, err = (&rle.DictionaryEncoding{}).EncodeInt32(vals, ids); err != nil {
			return st, fmt.Errorf("encode dictionary indexes: %w", err)
		}
		if nv > 0 {
			rmin, rmax := e.rank[ids[0]], e.rank[ids[0]]
			for _, id := range ids[1:] {
				r := e.rank[id]
				rmin, rmax = min(rmin, r), max(rmax, r)
			}
			if t == TypeInt64 {
				st.min = binary.LittleEndian.AppendUint64(nil, uint64(e.dints[e.byRk[rmin]]))
				st.max = binary.LittleEndian.AppendUint64(nil, uint64(e.dints[e.byRk[rmax]]))
			} else {
				st.min, st.max = e.dstrs[e.byRk[rmin]], e.dstrs[e.byRk[rmax]]
			}
		}
	case format.DeltaLengthByteArray:
		strs := e.strs[vlo:vhi]
		lens := e.lens[:0]
		total := 0
		for _, b := range strs {
			lens = append(lens, int32(len(b)))
			total += len(b)
		}
		e.lens = lens
		if e.tmp, err = (&delta.BinaryPackedEncoding{}).EncodeInt32(e.tmp, lens); err != nil {
			return st, fmt.Errorf("encode lengths: %w", err)
		}
		vals = grow(vals, len(e.tmp)+total)
		vals = append(vals, e.tmp...)
		if nv > 0 {
			mn, mx := strs[0], strs[0]
			for _, b := range strs {
				vals = append(vals, b...)
				if bytes.Compare(b, mn) < 0 {
					mn = b
				} else if bytes.Compare(b, mx) > 0 {
					mx = b
				}
			}
			st.min, st.max = mn, mx
		}
	case format.DeltaBinaryPacked:
		ints := e.ints[vlo:vhi]
		if vals, err = (&delta.BinaryPackedEncoding{}).EncodeInt64(vals, ints); err != nil {
			return st, fmt.Errorf("encode timestamps: %w", err)
		}
		st = int64Stats(ints)
	case format.Plain:
		switch t {
		case TypeInt64:
			ints := e.ints[vlo:vhi]
			vals = append(vals, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ints))), 8*len(ints))...)
			st = int64Stats(ints)
		case TypeFloat64:
			dbls := e.dbls[vlo:vhi]
			vals = append(vals, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dbls))), 8*len(dbls))...)
			st = float64Stats(dbls)
		case TypeBool:
			bools := e.bools[vlo:vhi]
			vals = grow(vals, (len(bools)+7)/8)[:(len(bools)+7)/8]
			clear(vals)
			seen := [2]bool{}
			for i, b := range bools {
				if b {
					vals[i>>3] |= 1 << (i & 7)
					seen[1] = true
				} else {
					seen[0] = true
				}
			}
			switch {
			case seen[0] && seen[1]:
				st = pageStats{[]byte{0}, []byte{1}}
			case seen[0]:
				st = pageStats{[]byte{0}, []byte{0}}
			case seen[1]:
				st = pageStats{[]byte{1}, []byte{1}}
			}
		}
	}
	e.vals = vals

	comp, err := e.codec.Encode(e.comp, vals)
	if err != nil {
		return st, fmt.Errorf("compress page: %w", err)
	}
	e.comp = comp
	crc := crc32.Update(crc32.ChecksumIEEE(lv), crc32.IEEETable, comp)
	h := format.PageHeader{
		Type:                 format.DataPageV2,
		UncompressedPageSize: int32(len(lv) + len(vals)),
		CompressedPageSize:   int32(len(lv) + len(comp)),
		CRC:                  int32(crc),
		DataPageHeaderV2: thrift.New(format.DataPageHeaderV2{
			NumValues:                  int32(n),
			NumNulls:                   int32(n - nv),
			NumRows:                    int32(n),
			Encoding:                   enc,
			DefinitionLevelsByteLength: int32(len(lv)),
			IsCompressed:               thrift.New(true),
			Statistics:                 format.Statistics{NullCount: int64(n - nv), MinValue: st.min, MaxValue: st.max},
		}),
	}
	if err := e.header(&h); err != nil {
		return st, err
	}
	off := int64(len(ch.dict) + len(ch.pages))
	ch.pages = append(ch.pages, e.hdr.Bytes()...)
	ch.pages = append(ch.pages, lv...)
	ch.pages = append(ch.pages, comp...)
	size := e.hdr.Len() + len(lv) + len(comp)
	ch.oi.PageLocations = append(ch.oi.PageLocations, format.PageLocation{Offset: off, CompressedPageSize: int32(size), FirstRowIndex: int64(lo)})
	ch.md.TotalUncompressedSize += int64(e.hdr.Len() + len(lv) + len(vals))
	ch.md.TotalCompressedSize += int64(size)
	return st, nil
}

func int64Stats(v []int64) pageStats {
	if len(v) == 0 {
		return pageStats{}
	}
	mn, mx := v[0], v[0]
	for _, x := range v[1:] {
		mn, mx = min(mn, x), max(mx, x)
	}
	return pageStats{binary.LittleEndian.AppendUint64(nil, uint64(mn)), binary.LittleEndian.AppendUint64(nil, uint64(mx))}
}

// float64Stats follows the Parquet rules for floating-point bounds: NaN
// is left out, and a zero bound is written as -0 (min) or +0 (max).
func float64Stats(v []float64) pageStats {
	mn, mx := math.Inf(1), math.Inf(-1)
	any := false
	for _, x := range v {
		if x != x {
			continue
		}
		any = true
		mn, mx = min(mn, x), max(mx, x)
	}
	if !any {
		if len(v) == 0 {
			return pageStats{}
		}
		// Only NaN: bounds readers ignore, but a page with values is not
		// a null page.
		nan := binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.NaN()))
		return pageStats{nan, nan}
	}
	if mn == 0 {
		mn = math.Copysign(0, -1)
	}
	if mx == 0 {
		mx = 0
	}
	return pageStats{binary.LittleEndian.AppendUint64(nil, math.Float64bits(mn)), binary.LittleEndian.AppendUint64(nil, math.Float64bits(mx))}
}
