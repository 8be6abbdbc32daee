package compact

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"gocloud.dev/blob"

	"github.com/loglake/loglake"
)

// dictSample is how many values of a column are looked at to decide whether
// dictionary encoding pays: it does when values repeat, on average, at least
// dictMinRepeat times in the sample.
const (
	dictSample    = 16384
	dictMinRepeat = 3
	// dictMaxBytes caps a column's dictionary per row group; past it the
	// writer falls back to PLAIN for the rest of the row group.
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

// parquetNode returns the Parquet node of a column.
func parquetNode(t Type, dict bool) parquet.Node {
	var n parquet.Node
	switch t {
	case TypeString:
		n = parquet.String()
	case TypeJSON:
		n = parquet.JSON()
	case TypeInt64:
		n = parquet.Int(64)
	case TypeFloat64:
		n = parquet.Leaf(parquet.DoubleType)
	case TypeBool:
		n = parquet.Leaf(parquet.BooleanType)
	case TypeTimestamp:
		n = parquet.TimestampAdjusted(parquet.Microsecond, true)
		n = parquet.Encoded(n, &parquet.DeltaBinaryPacked)
	}
	if dict {
		n = parquet.Encoded(n, &parquet.RLEDictionary)
	}
	return parquet.Optional(n)
}

// fileSchema builds the Parquet schema of a run.
func fileSchema(r *runData) *parquet.Schema {
	// The columns are sampled on all CPUs: this is the one step between
	// sorting and encoding that would otherwise run on one.
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
	g := parquet.Group{}
	for i, f := range r.schema {
		g[f.Name] = parquetNode(f.Type, dict[i])
	}
	return parquet.NewSchema("loglake", g)
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
	cw := &countingWriter{w: bw}
	schema := fileSchema(s)
	opts := []parquet.WriterOption{
		schema,
		parquet.Compression(c.codec),
		parquet.PageBufferSize(c.opts.PageBytes),
		parquet.WriteBufferSize(256 << 10),
		parquet.DictionaryMaxBytes(dictMaxBytes),
		parquet.CreatedBy("loglake", "1", ""),
		parquet.DataPageStatistics(true),
		parquet.KeyValueMetadata("loglake.partition", c.partitionOf(key)),
	}
	if _, ok := s.schema.Lookup(c.tsField); ok {
		opts = append(opts, parquet.SortingWriterConfig(parquet.SortingColumns(parquet.Ascending(c.tsField))))
	}
	w := parquet.NewGenericWriter[any](cw, opts...)
	// Leaf columns of a parquet.Group come in name order, as s.schema.
	// Row groups are encoded a window at a time, every column of every row
	// group of the window in parallel, and committed in order: one row
	// group's columns alone leave CPUs idle while its largest column
	// finishes. The window bounds the encoded pages held before a commit.
	workers := runtime.GOMAXPROCS(0)
	window := make([]*parquet.ConcurrentRowGroupWriter, 0, 2) // each holds a buffer per column
	var ranges [][2]int
	for lo := 0; lo < s.rows; lo += c.opts.RowGroupRows {
		ranges = append(ranges, [2]int{lo, min(lo+c.opts.RowGroupRows, s.rows)})
	}
	for len(ranges) > 0 {
		if err := ctx.Err(); err != nil {
			return abort(err)
		}
		n := min(cap(window), len(ranges))
		for len(window) < n {
			window = append(window, w.BeginRowGroup())
		}
		if err := encodeRowGroups(window[:n], s, ranges[:n], workers, c.opts.PageBytes, c.flushSlots); err != nil {
			return abort(fmt.Errorf("compact: encode %s: %w", key, err))
		}
		for _, rg := range window[:n] {
			if _, err := rg.Commit(); err != nil {
				return abort(fmt.Errorf("compact: write %s: %w", key, err))
			}
		}
		ranges = ranges[n:]
	}
	if err := w.Close(); err != nil {
		return abort(fmt.Errorf("compact: write %s: %w", key, err))
	}
	if err := bw.Close(); err != nil {
		return ref, fmt.Errorf("compact: write %s: %w", key, err)
	}
	ref.Size = cw.n
	return ref, nil
}

// encodeRowGroups writes the rows of ranges[i] (of s.order) to row group
// rgs[i], on workers goroutines, one column of one row group at a time.
func encodeRowGroups(rgs []*parquet.ConcurrentRowGroupWriter, s *runData, ranges [][2]int, workers, pageBytes int, flushSlots chan struct{}) error {
	type task struct{ rg, col int }
	tasks := make(chan task, len(rgs)*len(s.cols))
	// Largest columns first, so that no large one starts last.
	cols := make([]int, len(s.cols))
	for i := range cols {
		cols[i] = i
	}
	slices.SortStableFunc(cols, func(a, b int) int { return cmp.Compare(columnWeight(s, b), columnWeight(s, a)) })
	for _, ci := range cols {
		for ri := range rgs {
			tasks <- task{ri, ci}
		}
	}
	close(tasks)
	errs := make([]error, len(rgs)*len(s.cols))
	var wg sync.WaitGroup
	for range min(workers, cap(tasks)) {
		wg.Go(func() {
			buf := make([]parquet.Value, 0, 4096)
			for t := range tasks {
				cw := rgs[t.rg].ColumnWriters()[t.col]
				r := ranges[t.rg]
				n, err := writeColumn(cw, s.cols[t.col], s.schema[t.col].Type, t.col, s.order[r[0]:r[1]], buf)
				switch {
				case err != nil:
				case n >= pageBytes:
					// A column that filled pages here, each compressed by
					// this worker, has its last page compressed here too,
					// in parallel, rather than by Commit one column at a
					// time.
					err = cw.Flush()
				default:
					// A smaller column is compressed here too when one of
					// the few extra slots is free, else by Commit: one
					// per worker would mean an encoder (a few MiB) per
					// worker at once, where Commit needs one.
					select {
					case flushSlots <- struct{}{}:
						err = cw.Flush()
						<-flushSlots
					default:
					}
				}
				errs[t.rg*len(s.cols)+t.col] = err
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
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

// writeColumn writes the rows order of one column; srcs[k] holds part k's
// values (nil: the part has no such column, all null). It returns the bytes
// of the values written (8 for a number or boolean).
func writeColumn(w *parquet.ColumnWriter, srcs []arrow.Array, t Type, ci int, order []uint64, buf []parquet.Value) (int, error) {
	null := parquet.NullValue().Level(0, 0, ci)
	var (
		strs  []*array.String
		ints  [][]int64
		dbls  [][]float64
		bools []*array.Boolean
	)
	switch t {
	case TypeString, TypeJSON:
		strs = make([]*array.String, len(srcs))
		for k, a := range srcs {
			if a != nil {
				strs[k] = a.(*array.String)
			}
		}
	case TypeInt64, TypeTimestamp:
		ints = make([][]int64, len(srcs))
		for k, a := range srcs {
			switch a := a.(type) {
			case *array.Int64:
				ints[k] = a.Int64Values()
			case *array.Timestamp:
				v := a.TimestampValues()
				ints[k] = unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
			}
		}
	case TypeFloat64:
		dbls = make([][]float64, len(srcs))
		for k, a := range srcs {
			if a != nil {
				dbls[k] = a.(*array.Float64).Float64Values()
			}
		}
	case TypeBool:
		bools = make([]*array.Boolean, len(srcs))
		for k, a := range srcs {
			if a != nil {
				bools[k] = a.(*array.Boolean)
			}
		}
	}
	// valid[k]: part k's validity bitmap; nil when all its values are set.
	// absent[k]: part k has no such column.
	valid := make([][]byte, len(srcs))
	absent := make([]bool, len(srcs))
	for k, a := range srcs {
		switch {
		case a == nil:
			absent[k] = true
		case a.NullN() > 0:
			if a.Data().Offset() != 0 {
				return 0, fmt.Errorf("compact: unexpected array offset %d", a.Data().Offset())
			}
			valid[k] = a.NullBitmapBytes()
		}
	}
	// String parts as offsets and bytes: value r is
	// data[offs[r]-offs[0] : offs[r+1]-offs[0]].
	var offs [][]int32
	var data [][]byte
	if strs != nil {
		offs, data = make([][]int32, len(strs)), make([][]byte, len(strs))
		for k, a := range strs {
			if a != nil {
				offs[k], data[k] = a.ValueOffsets(), a.ValueBytes()
			}
		}
	}
	size := 0
	for lo := 0; lo < len(order); lo += cap(buf) {
		refs := order[lo:min(lo+cap(buf), len(order))]
		vals := buf[:len(refs)]
		// One loop per type: the type switch stays out of the loop.
		switch t {
		case TypeString, TypeJSON:
			for i, ref := range refs {
				k, r := int(ref>>32), int(uint32(ref))
				if absent[k] || valid[k] != nil && !bitutil.BitIsSet(valid[k], r) {
					vals[i] = null
					continue
				}
				o := offs[k]
				b := data[k][o[r]-o[0] : o[r+1]-o[0]]
				size += len(b)
				vals[i] = parquet.ByteArrayValue(b).Level(0, 1, ci)
			}
		case TypeInt64, TypeTimestamp:
			for i, ref := range refs {
				k, r := int(ref>>32), int(uint32(ref))
				if absent[k] || valid[k] != nil && !bitutil.BitIsSet(valid[k], r) {
					vals[i] = null
					continue
				}
				size += 8
				vals[i] = parquet.Int64Value(ints[k][r]).Level(0, 1, ci)
			}
		case TypeFloat64:
			for i, ref := range refs {
				k, r := int(ref>>32), int(uint32(ref))
				if absent[k] || valid[k] != nil && !bitutil.BitIsSet(valid[k], r) {
					vals[i] = null
					continue
				}
				size += 8
				vals[i] = parquet.DoubleValue(dbls[k][r]).Level(0, 1, ci)
			}
		case TypeBool:
			for i, ref := range refs {
				k, r := int(ref>>32), int(uint32(ref))
				if absent[k] || valid[k] != nil && !bitutil.BitIsSet(valid[k], r) {
					vals[i] = null
					continue
				}
				size += 8
				vals[i] = parquet.BooleanValue(bools[k].Value(r)).Level(0, 1, ci)
			}
		}
		if _, err := w.WriteRowValues(vals); err != nil {
			return size, err
		}
		clear(vals) // drop references to the Arrow buffers
	}
	return size, nil
}

var (
	_ = math.MaxInt64
	_ encoding.Encoding
	_ = loglake.ErrCorrupt
)
