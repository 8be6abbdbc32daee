package query

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"

	"github.com/loglake/loglake"
)

// rawCase is one way a writer may store a string column.
type rawCase struct {
	enc      encoding.Encoding
	v1       bool // data pages v1 (levels inside the compressed bytes)
	zstd     bool
	optional bool
}

func (c rawCase) String() string {
	s := c.enc.String()
	if c.v1 {
		s += "/v1"
	} else {
		s += "/v2"
	}
	if c.zstd {
		s += "/zstd"
	} else {
		s += "/uncompressed"
	}
	if c.optional {
		s += "/optional"
	}
	return s
}

// rawCases are the string columns rawPages reads: every encoding, both
// page versions, compressed or not, with NULLs or without.
func rawCases() []rawCase {
	var cs []rawCase
	for _, enc := range []encoding.Encoding{&parquet.Plain, &parquet.DeltaLengthByteArray, &parquet.RLEDictionary} {
		for _, v1 := range []bool{false, true} {
			for _, z := range []bool{false, true} {
				for _, opt := range []bool{false, true} {
					cs = append(cs, rawCase{enc, v1, z, opt})
				}
			}
		}
	}
	return cs
}

// rawTestValues returns n values: long paths, Japanese text, empty
// strings and (when optional) NULLs, as nil.
func rawTestValues(r *rand.Rand, n int, optional bool) []*string {
	words := []string{"", "社外秘", "report", "顧客リスト", `C:\Users\someone\Documents\`, "x"}
	vals := make([]*string, n)
	for i := range vals {
		if optional && r.IntN(7) == 0 {
			continue
		}
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(words[r.IntN(len(words))])
		}
		s := b.String()
		vals[i] = &s
	}
	return vals
}

// writeStringFile writes vals as column "s" of a Parquet file in the way
// c says, in small pages and row groups of rgRows.
func writeStringFile(t testing.TB, c rawCase, vals []*string, rgRows int) []byte {
	t.Helper()
	node := parquet.Encoded(parquet.String(), c.enc)
	if c.zstd {
		node = parquet.Compressed(node, &parquet.Zstd)
	} else {
		node = parquet.Compressed(node, &parquet.Uncompressed)
	}
	def := 0
	if c.optional {
		node, def = parquet.Optional(node), 1
	}
	ver := 2
	if c.v1 {
		ver = 1
	}
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, parquet.NewSchema("t", parquet.Group{"s": node}),
		parquet.PageBufferSize(2<<10), parquet.DataPageVersion(ver), parquet.DataPageStatistics(true))
	for i, v := range vals {
		row := parquet.Row{parquet.NullValue().Level(0, 0, 0)}
		if v != nil {
			row = parquet.Row{parquet.ByteArrayValue([]byte(*v)).Level(0, def, 0)}
		}
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			t.Fatal(err)
		}
		if (i+1)%rgRows == 0 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openTestFile stores data in lake as key and opens it as the scans do.
func openTestFile(t testing.TB, lake *loglake.Lake, key string, data []byte) *pqFile {
	t.Helper()
	ctx := context.Background()
	if err := lake.WriteAll(ctx, key, data, nil); err != nil {
		t.Fatal(err)
	}
	ra := &pqReaderAt{ctx: ctx, lake: lake, key: key, n: new(atomic.Int64), size: int64(len(data))}
	f, err := parquet.OpenFile(ra, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return &pqFile{f: f, ra: ra}
}

// readRanges reads the rows of ranges (every row: nil) from pages the way
// the scans do — seeking to each range's first row — and returns the
// values of the rows the pages hold, by row.
func readRanges(pages pqPages, ranges []rowRange) (map[int64]*string, error) {
	got := map[int64]*string{}
	row, ri := int64(0), 0
	for {
		if ranges != nil {
			for ri < len(ranges) && ranges[ri].to <= row {
				ri++
			}
			if ri == len(ranges) {
				return got, nil
			}
			if ranges[ri].from > row {
				if err := pages.SeekToRow(ranges[ri].from); err != nil {
					return got, err
				}
				row = ranges[ri].from
			}
		}
		page, err := pages.ReadPage()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		def := page.DefinitionLevels()
		vals := page.Data()
		value := func(j int) (string, bool) {
			if pd, ok := page.Dict(); ok {
				idx := vals.Int32()
				data, offs := pd.vals.ByteArray()
				if j >= len(idx) || idx[j] < 0 || int(idx[j]) >= pd.n || int(idx[j])+1 >= len(offs) {
					return "", false
				}
				return string(data[offs[idx[j]]:offs[idx[j]+1]]), true
			}
			data, offs := vals.ByteArray()
			if j+1 >= len(offs) {
				return "", false
			}
			return string(data[offs[j]:offs[j+1]]), true
		}
		j := 0
		for r := range page.NumRows() {
			if len(def) != 0 && def[r] == 0 {
				got[row+r] = nil
				continue
			}
			s, ok := value(j)
			if !ok {
				releasePage(page)
				return got, fmt.Errorf("row %d: no value %d", row+r, j)
			}
			got[row+r] = &s
			j++
		}
		row += page.NumRows()
		releasePage(page)
	}
}

// randomRanges returns sorted, disjoint row ranges within [0, n).
func randomRanges(r *rand.Rand, n int64) []rowRange {
	var rs []rowRange
	for at := r.Int64N(n / 4); at < n; {
		to := min(n, at+1+r.Int64N(n/6+1))
		rs = append(rs, rowRange{at, to})
		at = to + 1 + r.Int64N(n/5+1)
	}
	return rs
}

// TestRawPages checks that rawPages reads every row of every kind of
// string column it takes as parquet-go's page reader does, and as
// written: whole chunks and ranges reached by seeking.
func TestRawPages(t *testing.T) {
	lake := memLake(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range rawCases() {
		t.Run(c.String(), func(t *testing.T) {
			n, rg := 3000, 1700
			if c.enc == &parquet.RLEDictionary {
				n, rg = 24000, 14000 // indexes take a few bits: more rows for several pages
			}
			vals := rawTestValues(r, n, c.optional)
			pf := openTestFile(t, lake, c.String()+".parquet", writeStringFile(t, c, vals, rg))
			base := int64(0)
			for rgi, rg := range pf.f.RowGroups() {
				n := rg.NumRows()
				if oi, err := rg.ColumnChunks()[0].OffsetIndex(); err != nil || oi.NumPages() < 5 {
					t.Fatalf("row group %d: want several pages (err %v)", rgi, err)
				}
				for k, ranges := range [][]rowRange{nil, randomRanges(r, n), randomRanges(r, n), {{n - 1, n}}, {{0, 1}}} {
					var results [2]map[int64]*string
					for i, raw := range []bool{true, false} {
						pages, release, err := pf.chunkPages(rgi, 0, ranges, raw)
						if err != nil {
							t.Fatal(err)
						}
						if _, ok := pages.(*rawPages); ok != raw {
							t.Fatalf("raw %v: got a %T", raw, pages)
						}
						results[i], err = readRanges(pages, ranges)
						release()
						if err != nil {
							t.Fatalf("raw %v, ranges %v: %v", raw, ranges, err)
						}
					}
					for row := range n {
						in := ranges == nil
						for _, rr := range ranges {
							in = in || row >= rr.from && row < rr.to
						}
						if !in {
							continue
						}
						want := vals[base+row]
						for i, got := range results {
							g, ok := got[row]
							switch {
							case !ok:
								t.Fatalf("case %d, reader %d: row %d of ranges %v not read", k, i, row, ranges)
							case (g == nil) != (want == nil) || g != nil && *g != *want:
								t.Fatalf("case %d, reader %d: row %d = %v, want %v", k, i, row, show(g), show(want))
							}
						}
					}
				}
				base += n
			}
		})
	}
}

// chunkStart returns the offset of a column chunk's first page.
func chunkStart(md format.ColumnMetaData) int64 {
	if md.DictionaryPageOffset != 0 {
		return md.DictionaryPageOffset
	}
	return md.DataPageOffset
}

func show(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

// TestRawPagesEligible checks which chunks rawPages takes: not those with
// a codec or an encoding it does not decode.
func TestRawPagesEligible(t *testing.T) {
	lake := memLake(t)
	rng := rand.New(rand.NewPCG(1, 2))
	vals, full := rawTestValues(rng, 500, true), rawTestValues(rng, 500, false)
	for _, tc := range []struct {
		name string
		node parquet.Node
		want bool
	}{
		{"plain zstd", parquet.Optional(parquet.Compressed(parquet.String(), &parquet.Zstd)), true},
		{"dictionary", parquet.Optional(parquet.Compressed(parquet.Encoded(parquet.String(), &parquet.RLEDictionary), &parquet.Zstd)), true},
		{"dictionary, required", parquet.Compressed(parquet.Encoded(parquet.String(), &parquet.RLEDictionary), &parquet.Zstd), true},
		{"snappy", parquet.Optional(parquet.Compressed(parquet.String(), &parquet.Snappy)), false},
		{"delta byte array", parquet.Optional(parquet.Compressed(parquet.Encoded(parquet.String(), &parquet.DeltaByteArray), &parquet.Zstd)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals, def := vals, 1
			if !tc.node.Optional() {
				vals, def = full, 0
			}
			var buf bytes.Buffer
			w := parquet.NewWriter(&buf, parquet.NewSchema("t", parquet.Group{"s": tc.node}))
			for _, v := range vals {
				row := parquet.Row{parquet.NullValue().Level(0, 0, 0)}
				if v != nil {
					row = parquet.Row{parquet.ByteArrayValue([]byte(*v)).Level(0, def, 0)}
				}
				if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			pf := openTestFile(t, lake, tc.name+".parquet", buf.Bytes())
			pages, release, err := pf.chunkPages(0, 0, nil, true)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			if _, ok := pages.(*rawPages); ok != tc.want {
				t.Fatalf("got a %T, want rawPages %v", pages, tc.want)
			}
			got, err := readRanges(pages, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range vals {
				if g := got[int64(i)]; (g == nil) != (want == nil) || g != nil && *g != *want {
					t.Fatalf("row %d = %v, want %v", i, show(g), show(want))
				}
			}
		})
	}
}

// TestRawPagesCorrupt checks that damaged pages are errors, never a
// panic or a wrong count: every byte of a chunk's first page header and
// data is flipped in turn.
func TestRawPagesCorrupt(t *testing.T) {
	lake := memLake(t)
	for _, c := range []rawCase{{&parquet.DeltaLengthByteArray, false, true, true}, {&parquet.Plain, true, true, true}, {&parquet.Plain, false, false, false},
		{&parquet.RLEDictionary, false, true, true}, {&parquet.RLEDictionary, true, false, true}} {
		vals := rawTestValues(rand.New(rand.NewPCG(3, 4)), 300, c.optional)
		data := writeStringFile(t, c, vals, 1000)
		pf := openTestFile(t, lake, "good.parquet", data)
		md := pf.f.Metadata().RowGroups[0].Columns[0].MetaData
		from := chunkStart(md)
		to := from + min(md.TotalCompressedSize, 600)
		for at := from; at < to; at++ {
			bad := bytes.Clone(data)
			bad[at] ^= 0x5a
			pf := openTestFile(t, lake, "bad.parquet", bad)
			pages, release, err := pf.chunkPages(0, 0, nil, true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readRanges(pages, nil)
			release()
			if err != nil {
				continue
			}
			if len(got) > len(vals) {
				t.Fatalf("%v, byte %d flipped: %d rows, the chunk has %d", c, at, len(got), len(vals))
			}
		}
	}
}

// FuzzRawPages writes arbitrary bytes over part of a valid column chunk
// (at any offset, of any length): rawPages must return pages or an
// error, never panic, and never more rows than the row group has.
func FuzzRawPages(f *testing.F) {
	lake := memLake(f)
	vals := rawTestValues(rand.New(rand.NewPCG(7, 8)), 200, true)
	type tmpl struct {
		data     []byte
		from, to int64
	}
	var tmpls []tmpl
	for _, c := range rawCases() {
		data := writeStringFile(f, c, vals, 1000)
		pf := openTestFile(f, lake, "seed.parquet", data)
		md := pf.f.Metadata().RowGroups[0].Columns[0].MetaData
		from := chunkStart(md)
		tmpls = append(tmpls, tmpl{data, from, from + md.TotalCompressedSize})
		w := uint8(len(tmpls) - 1)
		f.Add(w, uint16(0), []byte{0x15, 0x04})             // page type
		f.Add(w, uint16(3), []byte{0xff, 0xff, 0xff, 0x7f}) // sizes
		f.Add(w, uint16(20), []byte{0x28, 0xb5, 0x2f, 0xfd})
	}
	f.Fuzz(func(t *testing.T, which uint8, at uint16, patch []byte) {
		tp := tmpls[int(which)%len(tmpls)]
		data := bytes.Clone(tp.data)
		off := tp.from + int64(at)%(tp.to-tp.from)
		copy(data[off:tp.to], patch)
		pf := openTestFile(t, lake, "fuzz.parquet", data)
		n := pf.f.RowGroups()[0].NumRows()
		for _, ranges := range [][]rowRange{nil, {{n / 3, n/3 + 5}, {n - 2, n}}} {
			pages, release, err := pf.chunkPages(0, 0, ranges, true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readRanges(pages, ranges)
			release()
			if err == nil && int64(len(got)) > n {
				t.Fatalf("%d rows read, the row group has %d", len(got), n)
			}
			if err != nil && errors.Is(err, io.EOF) {
				t.Fatalf("io.EOF as an error: %v", err)
			}
		}
	})
}

// TestCheckHybrid checks the bound on run-length data: runs may hold the
// values asked for (and a bit-packed run's padding), never more.
func TestCheckHybrid(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  []byte
		n    int
		ok   bool
	}{
		{"one RLE run", []byte{10 << 1, 1}, 10, true},
		{"RLE run far too long", []byte{20 << 1, 1}, 10, false},
		{"billions claimed", binary.AppendUvarint(nil, 1<<40), 10, false},
		{"bit-packed with padding", []byte{1<<1 | 1, 0xff}, 3, true},
		{"bit-packed groups past the data", []byte{5<<1 | 1, 0xff}, 40, false},
		{"two runs", []byte{4 << 1, 1, 1<<1 | 1, 0x0f}, 12, true},
		{"short of values", []byte{4 << 1, 1}, 12, true}, // DecodeLevels reports the count
	} {
		if err := checkHybrid(tc.src, 1, tc.n); (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// BenchmarkChunkPages reads a zstd string column chunk of long paths, as
// compaction writes them, through rawPages and through parquet-go's page
// reader; MB/s counts the values' bytes.
func BenchmarkChunkPages(b *testing.B) {
	lake := memLake(b)
	r := rand.New(rand.NewPCG(1, 1))
	vals := make([]*string, 50000)
	var size int64
	for i := range vals {
		s := fmt.Sprintf(`C:\Users\user%03d\Documents\%s\案件%05d\報告書_%d.xlsx`, r.IntN(500), []string{"社外秘", "共有", "顧客"}[r.IntN(3)], r.IntN(100000), r.IntN(1000))
		vals[i] = &s
		size += int64(len(s))
	}
	node := parquet.Optional(parquet.Compressed(parquet.Encoded(parquet.String(), &parquet.DeltaLengthByteArray), &parquet.Zstd))
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, parquet.NewSchema("t", parquet.Group{"s": node}), parquet.PageBufferSize(256<<10))
	for _, v := range vals {
		if _, err := w.WriteRows([]parquet.Row{{parquet.ByteArrayValue([]byte(*v)).Level(0, 1, 0)}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	pf := openTestFile(b, lake, "bench.parquet", buf.Bytes())
	for _, raw := range []bool{true, false} {
		name := "parquet-go"
		if raw {
			name = "rawPages"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				pages, release, err := pf.chunkPages(0, 0, nil, raw)
				if err != nil {
					b.Fatal(err)
				}
				n := int64(0)
				for {
					page, err := pages.ReadPage()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n += page.NumRows()
					releasePage(page)
				}
				release()
				if n != int64(len(vals)) {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(len(vals))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
