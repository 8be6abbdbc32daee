package compact

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// pqCol is a column of a generated run: its values by part and row, nil
// for null.
type pqCol struct {
	name  string
	t     Type
	vals  [][]any // vals[k][r]; a nil vals[k] makes part k lack the column
	gen   func(rng *rand.Rand) any
	nulls float64 // share of nulls
}

// genRun builds a run of parts with the columns of cols, rows in a random
// order, as mergeSealed would hand it to writeParquet.
func genRun(t *testing.T, rng *rand.Rand, parts []int, cols []pqCol) (*runData, []pqCol) {
	t.Helper()
	slices.SortFunc(cols, func(a, b pqCol) int { return strings.Compare(a.name, b.name) })
	r := &runData{}
	mem := memory.DefaultAllocator
	for f := range cols {
		c := &cols[f]
		r.schema = append(r.schema, Field{Name: c.name, Type: c.t})
		arrs := make([]arrow.Array, len(parts))
		c.vals = make([][]any, len(parts))
		for k, n := range parts {
			if k == 1 && f%3 == 0 {
				continue // part 1 lacks every third column
			}
			c.vals[k] = make([]any, n)
			for i := range n {
				if rng.Float64() >= c.nulls {
					c.vals[k][i] = c.gen(rng)
				}
			}
			arrs[k] = buildArray(mem, c.t, c.vals[k])
		}
		r.cols = append(r.cols, arrs)
	}
	for k, n := range parts {
		for i := range n {
			r.order = append(r.order, uint64(k)<<32|uint64(i))
		}
	}
	rng.Shuffle(len(r.order), func(i, j int) { r.order[i], r.order[j] = r.order[j], r.order[i] })
	r.rows = len(r.order)
	return r, cols
}

func buildArray(mem memory.Allocator, t Type, vals []any) arrow.Array {
	var b array.Builder
	switch t {
	case TypeString, TypeJSON:
		b = array.NewStringBuilder(mem)
	case TypeInt64:
		b = array.NewInt64Builder(mem)
	case TypeTimestamp:
		b = array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"})
	case TypeFloat64:
		b = array.NewFloat64Builder(mem)
	case TypeBool:
		b = array.NewBooleanBuilder(mem)
	}
	defer b.Release()
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
			b.AppendNull()
		case string:
			b.(*array.StringBuilder).Append(v)
		case int64:
			if t == TypeTimestamp {
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(v))
			} else {
				b.(*array.Int64Builder).Append(v)
			}
		case float64:
			b.(*array.Float64Builder).Append(v)
		case bool:
			b.(*array.BooleanBuilder).Append(v)
		}
	}
	return b.NewArray()
}

// plainOf is v's PLAIN encoding, as statistics hold it.
func plainOf(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case int64:
		return binary.LittleEndian.AppendUint64(nil, uint64(v))
	case float64:
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))
	case bool:
		if v {
			return []byte{1}
		}
		return []byte{0}
	}
	return nil
}

// TestChunkEncoder writes runs of every column shape with writeParquet and
// reads them back with parquet-go: every value in its row, every page's
// column-index bounds holding its values, the chunk statistics exact, the
// offset index's rows matching the pages, and every page's CRC right.
func TestChunkEncoder(t *testing.T) {
	words := []string{"", "a", "社外秘", "顧客リスト", "C:\\Users\\x\\Documents", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "q"}
	pick := func(rng *rand.Rand) any { return words[rng.IntN(len(words))] }
	unique := func(rng *rand.Rand) any {
		return fmt.Sprintf("/data/%x/%s/%d", rng.Uint64(), words[rng.IntN(len(words))], rng.IntN(1000))
	}
	edgeInts := []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}
	tests := []struct {
		name      string
		parts     []int
		pageBytes int
		rowGroup  int
		dictMax   int // 0: the default
		cols      []pqCol
		// plain names the columns that must come out without a
		// dictionary though their values repeat.
		plain []string
	}{
		{
			name: "every type", parts: []int{700, 300, 500}, pageBytes: 512, rowGroup: 400,
			cols: []pqCol{
				{name: "s_dict", t: TypeString, gen: pick, nulls: 0.2},
				{name: "s_plain", t: TypeString, gen: unique, nulls: 0.1},
				{name: "j", t: TypeJSON, gen: func(rng *rand.Rand) any { return fmt.Sprintf(`{"k":%d}`, rng.IntN(5)) }, nulls: 0.5},
				{name: "i_dict", t: TypeInt64, gen: func(rng *rand.Rand) any { return edgeInts[rng.IntN(len(edgeInts))] }, nulls: 0.3},
				{name: "i_plain", t: TypeInt64, gen: func(rng *rand.Rand) any { return int64(rng.Uint64()) }},
				{name: "timestamp", t: TypeTimestamp, gen: func(rng *rand.Rand) any { return int64(1_700_000_000_000_000 + rng.IntN(86_400_000_000)) }},
				{name: "f", t: TypeFloat64, gen: func(rng *rand.Rand) any {
					return []float64{math.Copysign(0, -1), 0, 1.5, -2.25, math.MaxFloat64, -math.SmallestNonzeroFloat64, math.NaN()}[rng.IntN(7)]
				}, nulls: 0.25},
				{name: "f_zero", t: TypeFloat64, gen: func(rng *rand.Rand) any { return []float64{0, math.Copysign(0, -1), 1.5}[rng.IntN(3)] }},
				{name: "f_neg", t: TypeFloat64, gen: func(rng *rand.Rand) any { return []float64{0, math.Copysign(0, -1), -1.5}[rng.IntN(3)] }},
				{name: "b", t: TypeBool, gen: func(rng *rand.Rand) any { return rng.IntN(2) == 0 }, nulls: 0.1},
				{name: "all_null", t: TypeString, gen: pick, nulls: 1},
			},
		},
		{
			name: "one page per chunk", parts: []int{50}, pageBytes: 1 << 20, rowGroup: 1000,
			cols: []pqCol{
				{name: "s", t: TypeString, gen: unique},
				{name: "timestamp", t: TypeTimestamp, gen: func(rng *rand.Rand) any { return int64(rng.IntN(1000)) }, nulls: 0.5},
				{name: "b", t: TypeBool, gen: func(rng *rand.Rand) any { return true }},
				{name: "f", t: TypeFloat64, gen: func(rng *rand.Rand) any { return math.NaN() }},
			},
		},
		{
			// Repeating values whose dictionary passes its cap: the
			// chunk gives it up and is written as DELTA_LENGTH / PLAIN.
			name: "dictionary past its cap", parts: []int{600, 600}, pageBytes: 1024, rowGroup: 500, dictMax: 64,
			cols: []pqCol{
				{name: "s", t: TypeString, gen: func(rng *rand.Rand) any { return fmt.Sprint("value-", rng.IntN(40)) }, nulls: 0.1},
				{name: "i", t: TypeInt64, gen: func(rng *rand.Rand) any { return int64(rng.IntN(40)) }},
			},
			plain: []string{"s", "i"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			run, cols := genRun(t, rng, tc.parts, tc.cols)
			lake := memLake(t)
			c, err := New(lake, &Options{PageBytes: tc.pageBytes, RowGroupRows: tc.rowGroup})
			if err != nil {
				t.Fatal(err)
			}
			if tc.dictMax > 0 {
				c.dictMax = tc.dictMax
			}
			ctx := context.Background()
			ref, err := c.writeParquet(ctx, "compacted/tenant_id=t/dt=2026-01-01/part-x.parquet", run)
			if err != nil {
				t.Fatal(err)
			}
			data, err := lake.ReadAll(ctx, ref.Key)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(data)) != ref.Size {
				t.Fatalf("FileRef.Size %d, file has %d bytes", ref.Size, len(data))
			}
			checkParquetRun(t, data, run, cols, tc.rowGroup, tc.rowGroup < 1000)
			// Which chunks have a dictionary.
			f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			for _, rg := range f.Metadata().RowGroups {
				for _, cc := range rg.Columns {
					name := cc.MetaData.PathInSchema[0]
					dict := slices.Contains(cc.MetaData.Encoding, format.RLEDictionary)
					if dict != (cc.MetaData.DictionaryPageOffset != 0) {
						t.Errorf("%s: encodings %v with dictionary page offset %d", name, cc.MetaData.Encoding, cc.MetaData.DictionaryPageOffset)
					}
					if slices.Contains(tc.plain, name) && dict {
						t.Errorf("%s: dictionary encoded past its cap (%v)", name, cc.MetaData.Encoding)
					}
					if name == "s_dict" && !dict {
						t.Errorf("%s: no dictionary for repeating values (%v)", name, cc.MetaData.Encoding)
					}
				}
			}
		})
	}
}

// checkParquetRun checks the file in data against the run it was written
// from. With split, the page size must have split some chunk.
func checkParquetRun(t *testing.T, data []byte, run *runData, cols []pqCol, rowGroup int, split bool) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != int64(run.rows) {
		t.Fatalf("%d rows, want %d", f.NumRows(), run.rows)
	}
	if got := len(f.RowGroups()); got != (run.rows+rowGroup-1)/rowGroup {
		t.Fatalf("%d row groups for %d rows of %d", got, run.rows, rowGroup)
	}
	md := f.Metadata()
	pages := 0
	for g, rg := range f.RowGroups() {
		first := g * rowGroup
		for j, cc := range rg.ColumnChunks() {
			col := cols[j]
			want := make([]any, rg.NumRows())
			for i := range want {
				ref := run.order[first+i]
				if vs := col.vals[ref>>32]; vs != nil {
					want[i] = vs[uint32(ref)]
				}
			}
			ci, err := cc.ColumnIndex()
			if err != nil {
				t.Fatalf("%s: column index: %v", col.name, err)
			}
			oi, err := cc.OffsetIndex()
			if err != nil {
				t.Fatalf("%s: offset index: %v", col.name, err)
			}
			typ := cc.Type()
			pr := cc.Pages()
			row := 0
			for p := 0; ; p++ {
				page, err := pr.ReadPage()
				if err == io.EOF {
					if p != oi.NumPages() {
						t.Fatalf("%s: %d pages, offset index has %d", col.name, p, oi.NumPages())
					}
					break
				}
				if err != nil {
					t.Fatalf("%s: page %d: %v", col.name, p, err)
				}
				pages++
				if oi.FirstRowIndex(p) != int64(row) {
					t.Fatalf("%s: page %d: first row %d in the offset index, %d read", col.name, p, oi.FirstRowIndex(p), row)
				}
				vals := make([]parquet.Value, page.NumValues())
				n, err := page.Values().ReadValues(vals)
				if err != nil && err != io.EOF || n != len(vals) {
					t.Fatalf("%s: page %d: read %d of %d values: %v", col.name, p, n, len(vals), err)
				}
				nulls := 0
				for _, v := range vals {
					w := want[row]
					row++
					if v.IsNull() != (w == nil) {
						t.Fatalf("%s: row %d: null %v, want %v", col.name, first+row-1, v.IsNull(), w)
					}
					if w == nil {
						nulls++
						continue
					}
					if got := plainOf(w); !bytes.Equal(v.Bytes(), got) {
						t.Fatalf("%s: row %d: %x, want %x", col.name, first+row-1, v.Bytes(), got)
					}
					if f, ok := w.(float64); ok && math.IsNaN(f) {
						continue
					}
					if lo := typ.Kind().Value(ci.MinValue(p).Bytes()); typ.Compare(v, lo) < 0 {
						t.Fatalf("%s: page %d: value %x below the index's min %x", col.name, p, v.Bytes(), lo.Bytes())
					}
					if hi := typ.Kind().Value(ci.MaxValue(p).Bytes()); typ.Compare(v, hi) > 0 {
						t.Fatalf("%s: page %d: value %x above the index's max %x", col.name, p, v.Bytes(), hi.Bytes())
					}
				}
				if ci.NullCount(p) != int64(nulls) || ci.NullPage(p) != (nulls == len(vals)) {
					t.Fatalf("%s: page %d: index says %d nulls (null page %v), page has %d of %d", col.name, p, ci.NullCount(p), ci.NullPage(p), nulls, len(vals))
				}
				parquet.Release(page)
			}
			pr.Close()
			if row != len(want) {
				t.Fatalf("%s: read %d rows, want %d", col.name, row, len(want))
			}
			// Chunk statistics: exact bounds, NaN left out, zeros signed.
			st := md.RowGroups[g].Columns[j].MetaData.Statistics
			var lo, hi any
			nulls := 0
			for _, w := range want {
				if w == nil {
					nulls++
					continue
				}
				if f, ok := w.(float64); ok && math.IsNaN(f) {
					continue
				}
				if lo == nil || less(w, lo) {
					lo = w
				}
				if hi == nil || less(hi, w) {
					hi = w
				}
			}
			if f, ok := lo.(float64); ok && f == 0 {
				lo = math.Copysign(0, -1)
			}
			if f, ok := hi.(float64); ok && f == 0 {
				hi = 0.0
			}
			if st.NullCount != int64(nulls) || !bytes.Equal(st.MinValue, plainOf(lo)) || !bytes.Equal(st.MaxValue, plainOf(hi)) {
				t.Fatalf("%s: chunk statistics %d nulls [%x, %x], want %d [%x, %x]", col.name, st.NullCount, st.MinValue, st.MaxValue, nulls, plainOf(lo), plainOf(hi))
			}
			checkPageCRCs(t, data, &md.RowGroups[g].Columns[j].MetaData, oi)
		}
	}
	if split && pages <= len(md.RowGroups)*len(cols) {
		t.Fatalf("only %d pages: the page size did not split any chunk", pages)
	}
}

// less orders two values of one column.
func less(a, b any) bool {
	switch a := a.(type) {
	case string:
		return a < b.(string)
	case int64:
		return a < b.(int64)
	case float64:
		return a < b.(float64)
	case bool:
		return !a && b.(bool)
	}
	return false
}

// checkPageCRCs decodes the header of the chunk's dictionary page and of
// every data page the offset index lists, and checks each page's CRC.
func checkPageCRCs(t *testing.T, data []byte, md *format.ColumnMetaData, oi parquet.OffsetIndex) {
	t.Helper()
	offsets := []int64{}
	if md.DictionaryPageOffset != 0 {
		offsets = append(offsets, md.DictionaryPageOffset)
	}
	for p := range oi.NumPages() {
		offsets = append(offsets, oi.Offset(p))
	}
	var proto thrift.CompactProtocol
	for _, off := range offsets {
		r := bytes.NewReader(data[off:])
		var h format.PageHeader
		if err := thrift.NewDecoder(proto.NewReader(r)).Decode(&h); err != nil {
			t.Fatalf("%v: header at %d: %v", md.PathInSchema, off, err)
		}
		body := int64(len(data)) - off - int64(r.Len())
		page := data[off+body : off+body+int64(h.CompressedPageSize)]
		if crc := int32(crc32.ChecksumIEEE(page)); crc != h.CRC {
			t.Fatalf("%v: page at %d: CRC %08x, header says %08x", md.PathInSchema, off, crc, h.CRC)
		}
	}
}

// TestChunkEncoderRandom writes runs of random shapes — parts, nulls,
// page and row-group sizes, dictionary caps — and checks each file as
// TestChunkEncoder does.
func TestChunkEncoderRandom(t *testing.T) {
	rounds := 40
	if testing.Short() {
		rounds = 8
	}
	types := []Type{TypeString, TypeJSON, TypeInt64, TypeTimestamp, TypeFloat64, TypeBool}
	for seed := range rounds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		parts := make([]int, 1+rng.IntN(4))
		for k := range parts {
			parts[k] = rng.IntN(400)
		}
		var cols []pqCol
		for f := range 1 + rng.IntN(6) {
			typ := types[rng.IntN(len(types))]
			card := 1 + rng.IntN(200) // distinct values: few (a dictionary) or many
			cols = append(cols, pqCol{
				name:  fmt.Sprintf("c%02d", f),
				t:     typ,
				nulls: []float64{0, 0.1, 0.5, 0.95, 1}[rng.IntN(5)],
				gen: func(rng *rand.Rand) any {
					v := rng.IntN(card)
					switch typ {
					case TypeString, TypeJSON:
						return strings.Repeat("社外秘/", v%5) + fmt.Sprint(v)
					case TypeInt64, TypeTimestamp:
						return int64(v) * int64(rng.IntN(3)-1) << 40
					case TypeFloat64:
						return float64(v) / 7
					default:
						return v%2 == 0
					}
				},
			})
		}
		rows := 0
		for _, n := range parts {
			rows += n
		}
		if rows == 0 {
			continue
		}
		rowGroup := 1 + rng.IntN(rows+50)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			run, cols := genRun(t, rng, parts, cols)
			lake := memLake(t)
			c, err := New(lake, &Options{PageBytes: 64 + rng.IntN(4096), RowGroupRows: rowGroup})
			if err != nil {
				t.Fatal(err)
			}
			c.dictMax = []int{16, 256, dictMaxBytes}[rng.IntN(3)]
			ref, err := c.writeParquet(context.Background(), "compacted/tenant_id=t/dt=2026-01-01/part-r.parquet", run)
			if err != nil {
				t.Fatal(err)
			}
			data, err := lake.ReadAll(context.Background(), ref.Key)
			if err != nil {
				t.Fatal(err)
			}
			checkParquetRun(t, data, run, cols, rowGroup, false)
		})
	}
}
