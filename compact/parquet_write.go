package compact

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"gocloud.dev/blob"
)

// dictSample is how many values of a column are looked at to decide whether
// dictionary encoding pays: it does when values repeat, on average, at least
// dictMinRepeat times in the sample.
const (
	dictSample    = 4096
	dictMinRepeat = 3
	// dictMaxBytes caps a column's dictionary per row group; past it the
	// chunk is written without one (chunkEncoder.dictMax).
	dictMaxBytes = 8 << 20
)

// usesDictionary reports whether dictionary encoding pays for a column
// whose values are in arrs (nil entries are absent), judged on a sample
// of its values.
func usesDictionary(arrs []arrow.Array, t Type) bool {
	if t != TypeString && t != TypeJSON && t != TypeInt64 {
		return false
	}
	n := 0
	for _, a := range arrs {
		if a != nil {
			n += a.Len()
		}
	}
	step := 1
	if n > dictSample {
		step = n / dictSample
	}
	// Distinct values are counted by their 64-bit hashes in a set that
	// holds at most limit of them: past it the values cannot repeat
	// dictMinRepeat times on average, whatever the rest of the sample.
	visits := 0
	for _, a := range arrs {
		if a != nil {
			visits += (a.Len() + step - 1) / step
		}
	}
	limit := visits / dictMinRepeat
	set := newHashSet(limit)
	sampled := 0
	for _, arr := range arrs {
		if arr == nil {
			continue
		}
		switch a := arr.(type) {
		case *array.String:
			for i := 0; i < a.Len(); i += step {
				if a.IsValid(i) {
					sampled++
					if !set.add(maphash.String(dictSeed, a.Value(i))) {
						return false
					}
				}
			}
		case *array.Int64:
			for i := 0; i < a.Len(); i += step {
				if a.IsValid(i) {
					sampled++
					if !set.add(mix64(uint64(a.Value(i)))) {
						return false
					}
				}
			}
		}
	}
	return sampled > 0 && set.n*dictMinRepeat <= sampled
}

// dictSeed seeds the hashes of usesDictionary's samples.
var dictSeed = maphash.MakeSeed()

// mix64 spreads the bits of x (a finalizer of SplitMix64).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// hashSet is a set of at most max hashes, open addressing.
type hashSet struct {
	slots  []uint64 // 0: empty (hash 0 is stored as 1)
	n, max int
}

func newHashSet(max int) hashSet {
	size := 16
	for size < 2*max+2 {
		size *= 2
	}
	return hashSet{slots: make([]uint64, size), max: max}
}

// add adds h; it reports false when h is new and the set already holds max.
func (s *hashSet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			if s.n >= s.max {
				return false
			}
			s.slots[i] = h
			s.n++
			return true
		}
	}
}

// fileDicts decides, column by column, whether a run's chunks are
// dictionary encoded. The columns are sampled on all CPUs: this is the one
// step between sorting and encoding that would otherwise run on one.
func fileDicts(r *runData) []bool {
	dict := make([]bool, len(r.schema))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(r.schema)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(r.schema); i = int(next.Add(1) - 1) {
				t := r.schema[i].Type
				dict[i] = t != TypeTimestamp && usesDictionary(r.cols[i], t)
			}
		})
	}
	wg.Wait()
	return dict
}

// schemaElements is the Parquet schema of a run: a root group named
// loglake and one OPTIONAL leaf per field, in the run's (name) order,
// annotated as parquet-go annotates String, JSON, Int(64) and
// TimestampAdjusted(Microsecond).
func schemaElements(schema Schema) []format.SchemaElement {
	els := make([]format.SchemaElement, 0, len(schema)+1)
	els = append(els, format.SchemaElement{Name: "loglake", NumChildren: thrift.New(int32(len(schema)))})
	for _, f := range schema {
		e := format.SchemaElement{
			Type:           thrift.New(physicalType(f.Type)),
			RepetitionType: thrift.New(format.Optional),
			Name:           f.Name,
		}
		switch f.Type {
		case TypeString:
			e.ConvertedType = thrift.New(deprecated.UTF8)
			e.LogicalType.Value = &format.StringType{}
		case TypeJSON:
			e.ConvertedType = thrift.New(deprecated.Json)
			e.LogicalType.Value = &format.JsonType{}
		case TypeInt64:
			e.ConvertedType = thrift.New(deprecated.Int64)
			e.LogicalType.Value = &format.IntType{BitWidth: 64, IsSigned: true}
		case TypeTimestamp:
			e.ConvertedType = thrift.New(deprecated.TimestampMicros)
			e.LogicalType.Value = &format.TimestampType{IsAdjustedToUTC: true, Unit: format.TimeUnit{Value: &format.MicroSeconds{}}}
		}
		els = append(els, e)
	}
	return els
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeParquet writes s, in time order, as a Parquet file at key, streaming
// it through the lake's writer. Nothing is visible at key unless it returns
// nil.
//
// Row groups are encoded a window of two at a time: every column chunk of
// the window in parallel (chunkEncoder, largest columns first), then
// written in order. One row group's columns alone would leave CPUs idle
// while its largest column finishes. The window bounds the encoded chunks
// held before they are written.
func (c *Compactor) writeParquet(ctx context.Context, key string, s *runData) (FileRef, error) {
	ref := FileRef{Key: key, Rows: int64(s.rows), Schema: s.schema}
	if s.hasTS {
		ref.MinTime = time.UnixMicro(s.minUS).UTC()
		ref.MaxTime = time.UnixMicro(s.maxUS).UTC()
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bw, err := c.lake.NewWriter(wctx, key, &blob.WriterOptions{ContentType: "application/vnd.apache.parquet"})
	if err != nil {
		return ref, err
	}
	abort := func(err error) (FileRef, error) {
		cancel() // a canceled writer makes nothing visible
		_ = bw.Close()
		return ref, err
	}
	fail := func(err error) (FileRef, error) { return abort(fmt.Errorf("compact: write %s: %w", key, err)) }
	flush := c.getBufWriter(bw)
	defer c.putBufWriter(flush)
	cw := &countingWriter{w: flush}
	dict := fileDicts(s)
	meta := format.FileMetaData{
		Version:          2, // format 2.x: data pages v2, the page index
		Schema:           schemaElements(s.schema),
		NumRows:          int64(s.rows),
		KeyValueMetadata: []format.KeyValue{{Key: "loglake.partition", Value: c.partitionOf(key)}},
		CreatedBy:        "loglake version 1",
	}
	for range s.schema {
		meta.ColumnOrders = append(meta.ColumnOrders, format.ColumnOrder{Value: &format.TypeDefinedOrder{}})
	}
	var sorting []format.SortingColumn
	for i, f := range s.schema {
		if f.Name == c.tsField {
			sorting = []format.SortingColumn{{ColumnIdx: int32(i)}}
		}
	}
	if _, err := io.WriteString(cw, "PAR1"); err != nil {
		return fail(err)
	}
	var indexes [][]*encChunk // per row group: chunks holding their page index
	var ranges [][2]int
	for lo := 0; lo < s.rows; lo += c.opts.RowGroupRows {
		ranges = append(ranges, [2]int{lo, min(lo+c.opts.RowGroupRows, s.rows)})
	}
	for len(ranges) > 0 {
		if err := ctx.Err(); err != nil {
			return abort(err)
		}
		n := min(2, len(ranges))
		chunks, err := c.encodeRowGroups(s, dict, ranges[:n])
		if err != nil {
			return abort(fmt.Errorf("compact: encode %s: %w", key, err))
		}
		for i, rgChunks := range chunks {
			rg := format.RowGroup{NumRows: int64(ranges[i][1] - ranges[i][0]), SortingColumns: sorting, FileOffset: cw.n, Ordinal: int16(len(meta.RowGroups))}
			for _, ch := range rgChunks {
				start := cw.n
				md := ch.md
				if ch.dict != nil {
					md.DictionaryPageOffset = start
				}
				md.DataPageOffset = start + int64(len(ch.dict))
				for j := range ch.oi.PageLocations {
					ch.oi.PageLocations[j].Offset += start
				}
				if _, err := cw.Write(ch.dict); err != nil {
					return fail(err)
				}
				if _, err := cw.Write(ch.pages); err != nil {
					return fail(err)
				}
				ch.dict, ch.pages = nil, nil
				rg.Columns = append(rg.Columns, format.ColumnChunk{FileOffset: start, MetaData: md})
				rg.TotalByteSize += md.TotalUncompressedSize
				rg.TotalCompressedSize += md.TotalCompressedSize
			}
			meta.RowGroups = append(meta.RowGroups, rg)
			indexes = append(indexes, rgChunks)
		}
		ranges = ranges[n:]
	}
	// The page index: every chunk's column index, then every chunk's
	// offset index; then the footer.
	var proto thrift.CompactProtocol
	enc := thrift.NewEncoder(proto.NewWriter(cw))
	put := func(v any, off *int64, length *int32) error {
		*off = cw.n
		err := enc.Encode(v)
		*length = int32(cw.n - *off)
		return err
	}
	for pass := range 2 {
		for i, rgChunks := range indexes {
			for j, ch := range rgChunks {
				cc := &meta.RowGroups[i].Columns[j]
				var err error
				if pass == 0 {
					err = put(&ch.ci, &cc.ColumnIndexOffset, &cc.ColumnIndexLength)
				} else {
					err = put(&ch.oi, &cc.OffsetIndexOffset, &cc.OffsetIndexLength)
				}
				if err != nil {
					return fail(err)
				}
			}
		}
	}
	footer := cw.n
	if err := enc.Encode(&meta); err != nil {
		return fail(err)
	}
	tail := binary.LittleEndian.AppendUint32(nil, uint32(cw.n-footer))
	if _, err := cw.Write(append(tail, "PAR1"...)); err != nil {
		return fail(err)
	}
	if err := flush.Flush(); err != nil {
		return fail(err)
	}
	if err := bw.Close(); err != nil {
		return ref, fmt.Errorf("compact: write %s: %w", key, err)
	}
	ref.Size = cw.n
	return ref, nil
}

// encodeRowGroups encodes the column chunks of the row groups of ranges
// (of s.order), out[i][f] for row group i and field f, on encodeWorkers
// goroutines, the largest columns first so that no large one starts last.
func (c *Compactor) encodeRowGroups(s *runData, dict []bool, ranges [][2]int) ([][]*encChunk, error) {
	type task struct{ rg, col int }
	tasks := make(chan task, len(ranges)*len(s.cols))
	cols := make([]int, len(s.cols))
	for i := range cols {
		cols[i] = i
	}
	slices.SortStableFunc(cols, func(a, b int) int { return cmp.Compare(columnWeight(s, b), columnWeight(s, a)) })
	for _, ci := range cols {
		for ri := range ranges {
			tasks <- task{ri, ci}
		}
	}
	close(tasks)
	out := make([][]*encChunk, len(ranges))
	for i := range out {
		out[i] = make([]*encChunk, len(s.cols))
	}
	errs := make([]error, len(ranges)*len(s.cols))
	var wg sync.WaitGroup
	for range min(c.encodeWorkers(), cap(tasks)) {
		wg.Go(func() {
			e := c.getChunkEncoder()
			defer c.putChunkEncoder(e)
			for t := range tasks {
				r := ranges[t.rg]
				ch, err := e.encode(s.schema[t.col].Name, colSource{srcs: s.cols[t.col], t: s.schema[t.col].Type}, s.order[r[0]:r[1]], dict[t.col])
				out[t.rg][t.col], errs[t.rg*len(s.cols)+t.col] = ch, err
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// encoderBytes is about what one encoding goroutine holds: a zstd encoder's
// tables and a chunk encoder's buffers.
const encoderBytes = 4 << 20

// encodeWorkers is how many goroutines encode a file's column chunks: one
// per CPU, but no more than a quarter of BufferBytes pays for, so that a
// small buffer keeps the memory it promises.
func (c *Compactor) encodeWorkers() int {
	return max(1, min(runtime.GOMAXPROCS(0), int(c.opts.BufferBytes/(4*encoderBytes))))
}

// getBufWriter returns a 256 KiB buffered writer to w from the
// Compactor's free list.
func (c *Compactor) getBufWriter(w io.Writer) *bufio.Writer {
	select {
	case b := <-c.bufws:
		b.Reset(w)
		return b
	default:
		return bufio.NewWriterSize(w, 256<<10)
	}
}

func (c *Compactor) putBufWriter(b *bufio.Writer) {
	b.Reset(nil)
	select {
	case c.bufws <- b:
	default:
	}
}

// getChunkEncoder returns a chunk encoder from the Compactor's free list.
func (c *Compactor) getChunkEncoder() *chunkEncoder {
	select {
	case e := <-c.encoders:
		return e
	default:
		return newChunkEncoder(c.codec, c.opts.PageBytes, c.dictMax)
	}
}

func (c *Compactor) putChunkEncoder(e *chunkEncoder) {
	select {
	case c.encoders <- e:
	default:
	}
}

// columnWeight estimates the encoding work of column f: its value bytes.
func columnWeight(s *runData, f int) int {
	n := 0
	for _, a := range s.cols[f] {
		switch a := a.(type) {
		case nil:
		case *array.String:
			n += len(a.ValueBytes()) + a.Len()
		default:
			n += 8 * a.Len()
		}
	}
	return n
}
