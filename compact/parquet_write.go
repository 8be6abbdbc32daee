package compact

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/parquet-go/parquet-go"
	pqzstd "github.com/parquet-go/parquet-go/compress/zstd"
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

// zstdCodecs are shared by all writers (a codec pools its encoders).
var zstdCodecs = [5]*pqzstd.Codec{
	nil,
	{Level: pqzstd.SpeedFastest},
	{Level: pqzstd.SpeedDefault},
	{Level: pqzstd.SpeedBetterCompression},
	{Level: pqzstd.SpeedBestCompression},
}

// usesDictionary reports whether dictionary encoding pays for column arr,
// judged on a sample of its values.
func usesDictionary(arr arrow.Array, t Type) bool {
	n := arr.Len()
	step := 1
	if n > dictSample {
		step = n / dictSample
	}
	sampled := 0
	switch t {
	case TypeString, TypeJSON:
		a := arr.(*array.String)
		seen := make(map[string]struct{}, 1024)
		for i := 0; i < n; i += step {
			if a.IsNull(i) {
				continue
			}
			sampled++
			seen[a.Value(i)] = struct{}{}
		}
		return sampled > 0 && len(seen)*dictMinRepeat <= sampled
	case TypeInt64:
		a := arr.(*array.Int64)
		seen := make(map[int64]struct{}, 1024)
		for i := 0; i < n; i += step {
			if a.IsNull(i) {
				continue
			}
			sampled++
			seen[a.Value(i)] = struct{}{}
		}
		return sampled > 0 && len(seen)*dictMinRepeat <= sampled
	}
	return false
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

// fileSchema builds the Parquet schema of a sealed chunk.
func fileSchema(s *sealed) *parquet.Schema {
	g := parquet.Group{}
	for i, f := range s.schema {
		dict := f.Type != TypeTimestamp && usesDictionary(s.record.Column(i), f.Type)
		g[f.Name] = parquetNode(f.Type, dict)
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
func (c *Compactor) writeParquet(ctx context.Context, key string, s *sealed) (FileRef, error) {
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
		parquet.Compression(zstdCodecs[c.opts.ZstdLevel]),
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
	cols := make([]arrow.Array, len(s.schema))
	for i := range s.schema {
		cols[i] = s.record.Column(i)
	}
	// Leaf columns of a parquet.Group come in name order, as s.schema.
	for lo := 0; lo < s.rows; lo += c.opts.RowGroupRows {
		if err := ctx.Err(); err != nil {
			return abort(err)
		}
		hi := min(lo+c.opts.RowGroupRows, s.rows)
		if err := writeRowGroup(w.ColumnWriters(), cols, s.schema, s.perm[lo:hi]); err != nil {
			return abort(fmt.Errorf("compact: encode %s: %w", key, err))
		}
		if err := w.Flush(); err != nil {
			return abort(fmt.Errorf("compact: write %s: %w", key, err))
		}
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

// writeRowGroup writes the rows perm of every column, encoding columns in
// parallel: each ColumnWriter of a row group is independent.
func writeRowGroup(writers []*parquet.ColumnWriter, cols []arrow.Array, schema Schema, perm []int32) error {
	workers := min(runtime.GOMAXPROCS(0), len(cols))
	next := make(chan int, len(cols))
	for i := range cols {
		next <- i
	}
	close(next)
	errs := make([]error, len(cols))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]parquet.Value, 0, 2048)
			for i := range next {
				errs[i] = writeColumn(writers[i], cols[i], schema[i].Type, i, perm, buf)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func writeColumn(w *parquet.ColumnWriter, arr arrow.Array, t Type, ci int, perm []int32, buf []parquet.Value) error {
	null := parquet.NullValue().Level(0, 0, ci)
	for lo := 0; lo < len(perm); lo += cap(buf) {
		hi := min(lo+cap(buf), len(perm))
		vals := buf[:0]
		switch t {
		case TypeString, TypeJSON:
			a := arr.(*array.String)
			for _, r := range perm[lo:hi] {
				if a.IsNull(int(r)) {
					vals = append(vals, null)
					continue
				}
				s := a.Value(int(r))
				vals = append(vals, parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s))).Level(0, 1, ci))
			}
		case TypeInt64:
			a := arr.(*array.Int64)
			v := a.Int64Values()
			for _, r := range perm[lo:hi] {
				if a.IsNull(int(r)) {
					vals = append(vals, null)
					continue
				}
				vals = append(vals, parquet.Int64Value(v[r]).Level(0, 1, ci))
			}
		case TypeTimestamp:
			a := arr.(*array.Timestamp)
			v := a.TimestampValues()
			for _, r := range perm[lo:hi] {
				if a.IsNull(int(r)) {
					vals = append(vals, null)
					continue
				}
				vals = append(vals, parquet.Int64Value(int64(v[r])).Level(0, 1, ci))
			}
		case TypeFloat64:
			a := arr.(*array.Float64)
			v := a.Float64Values()
			for _, r := range perm[lo:hi] {
				if a.IsNull(int(r)) {
					vals = append(vals, null)
					continue
				}
				vals = append(vals, parquet.DoubleValue(v[r]).Level(0, 1, ci))
			}
		case TypeBool:
			a := arr.(*array.Boolean)
			for _, r := range perm[lo:hi] {
				if a.IsNull(int(r)) {
					vals = append(vals, null)
					continue
				}
				vals = append(vals, parquet.BooleanValue(a.Value(int(r))).Level(0, 1, ci))
			}
		}
		if _, err := w.WriteRowValues(vals); err != nil {
			return err
		}
		clear(vals) // drop references to the Arrow buffers
	}
	return nil
}

var (
	_ = math.MaxInt64
	_ encoding.Encoding
	_ = loglake.ErrCorrupt
)
