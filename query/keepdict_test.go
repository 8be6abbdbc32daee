package query

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/rle"
)

// keepDictRef is keepDict row by row, as the semantics say.
func keepDictRef(ps []bool, def []byte, nullOK bool, idx []int32, dictHit []bool) {
	keepDictSlow(ps, def, nullOK, idx, dictHit)
}

// keepDictCase builds a page of rows: each row is NULL with probability
// pNull, each index is in range unless bad.
func keepDictCase(rng *rand.Rand, rows, dict int, pNull float64, withDef bool) (ps []bool, def []byte, idx []int32, hit []bool) {
	ps = make([]bool, rows)
	for r := range ps {
		ps[r] = rng.IntN(4) != 0
	}
	hit = make([]bool, dict)
	for i := range hit {
		hit[i] = rng.IntN(2) == 0
	}
	if withDef {
		def = make([]byte, rows)
	}
	for r := range rows {
		if withDef && rng.Float64() < pNull {
			continue
		}
		if withDef {
			def[r] = 1
		}
		if dict > 0 {
			idx = append(idx, int32(rng.IntN(dict)))
		}
	}
	return ps, def, idx, hit
}

func TestKeepDict(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name   string
		rows   int
		dict   int
		pNull  float64
		def    bool
		mangle func(idx []int32, def []byte) ([]int32, []byte)
	}{
		{name: "required", rows: 1000, dict: 10},
		{name: "optional", rows: 1000, dict: 10, pNull: 0.8, def: true},
		{name: "all NULL", rows: 100, dict: 3, pNull: 1, def: true},
		{name: "no NULL", rows: 100, dict: 3, def: true},
		{name: "trailing NULLs", rows: 100, dict: 5, pNull: 0.3, def: true,
			mangle: func(idx []int32, def []byte) ([]int32, []byte) {
				for r := 80; r < len(def); r++ {
					if def[r] != 0 {
						def[r] = 0
						idx = idx[:len(idx)-1]
					}
				}
				return idx, def
			}},
		{name: "definition level above one", rows: 100, dict: 5, pNull: 0.3, def: true,
			mangle: func(idx []int32, def []byte) ([]int32, []byte) {
				for r := range def {
					def[r] *= 2
				}
				return idx, def
			}},
		{name: "index out of range", rows: 100, dict: 5, pNull: 0.3, def: true,
			mangle: func(idx []int32, def []byte) ([]int32, []byte) {
				idx[len(idx)/2] = 5
				idx[0] = -1
				return idx, def
			}},
		{name: "too few indexes", rows: 100, dict: 5, pNull: 0.3, def: true,
			mangle: func(idx []int32, def []byte) ([]int32, []byte) { return idx[:len(idx)-3], def }},
		{name: "too few indexes, required", rows: 100, dict: 5,
			mangle: func(idx []int32, def []byte) ([]int32, []byte) { return idx[:50], def }},
		{name: "extra indexes", rows: 100, dict: 5, pNull: 0.3, def: true,
			mangle: func(idx []int32, def []byte) ([]int32, []byte) { return append(idx, 1, 2, 3), def }},
		{name: "empty dictionary", rows: 10, dict: 0, pNull: 1, def: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, nullOK := range []bool{false, true} {
				ps, def, idx, hit := keepDictCase(rng, tt.rows, tt.dict, tt.pNull, tt.def)
				if tt.mangle != nil {
					idx, def = tt.mangle(idx, def)
				}
				want := slices.Clone(ps)
				keepDictRef(want, def, nullOK, idx, hit)
				got := slices.Clone(ps)
				keepDict(got, def, nullOK, idx, hit)
				if !slices.Equal(got, want) {
					t.Fatalf("nullOK=%v: keepDict differs from the row-by-row rule", nullOK)
				}
				kept := 0
				for _, b := range got {
					if b {
						kept++
					}
				}
				t.Logf("nullOK=%v: %d of %d rows kept", nullOK, kept, len(got))
			}
		})
	}
}

func FuzzKeepDict(f *testing.F) {
	f.Add([]byte{1, 0, 1, 1}, []byte{0, 1, 2, 3}, []byte{1, 0, 1}, []byte{1, 1, 0, 1}, false)
	f.Add([]byte{}, []byte{7, 0}, []byte{0}, []byte{1, 1}, true)
	f.Fuzz(func(t *testing.T, sel, idxb, hitb, def []byte, nullOK bool) {
		ps := make([]bool, len(sel))
		for i, b := range sel {
			ps[i] = b&1 == 1
		}
		if len(def) != 0 && len(def) != len(ps) {
			def = nil
		}
		for i := range def {
			def[i] %= 3
		}
		idx := make([]int32, len(idxb))
		for i, b := range idxb {
			idx[i] = int32(int8(b)) // some negative
		}
		hit := make([]bool, len(hitb))
		for i, b := range hitb {
			hit[i] = b&1 == 1
		}
		want := slices.Clone(ps)
		keepDictRef(want, def, nullOK, idx, hit)
		keepDict(ps, def, nullOK, idx, hit)
		if !slices.Equal(ps, want) {
			t.Fatalf("keepDict %v, row by row %v", ps, want)
		}
	})
}

// BenchmarkKeepDict evaluates a dictionary column's hits over a page of
// 16384 rows, as the Parquet scan does for a LIKE on a dictionary-encoded
// string column: an optional column where a sixth of the rows have a
// value (its levels expanded, then evaluated; or evaluated on the
// encoded levels), a dense one, and a required one.
func BenchmarkKeepDict(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bc := range []struct {
		name  string
		pNull float64
		def   bool
		runs  bool
	}{
		{"optional/levels", 0.84, true, false},
		{"optional/runs", 0.84, true, true},
		{"dense/levels", 0.1, true, false},
		{"dense/runs", 0.1, true, true},
		{"required", 0, false, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ps, def, idx, hit := keepDictCase(rng, 16384, 10, bc.pNull, bc.def)
			for i := range ps {
				ps[i] = true
			}
			var enc, hv, levels []byte
			if bc.def {
				enc = encodeDefLevels(b, def)
			}
			work := make([]bool, len(ps))
			b.SetBytes(int64(len(ps)))
			b.ReportAllocs()
			for b.Loop() {
				copy(work, ps)
				switch {
				case bc.runs:
					hv = keepDictRuns(work, enc, false, idx, hit, hv)
				case bc.def: // the levels are expanded first
					levels = expandDefLevels(levels[:0], enc, len(work))
					keepDict(work, levels, false, idx, hit)
				default:
					keepDict(work, nil, false, idx, hit)
				}
			}
			b.ReportMetric(float64(b.N)*float64(len(ps))/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// encodeDefLevels encodes definition levels as writers do: RLE runs and
// bit-packed groups, as parquet-go chooses.
func encodeDefLevels(t testing.TB, def []byte) []byte {
	t.Helper()
	enc := rle.Encoding{BitWidth: 1}
	b, err := enc.EncodeLevels(nil, def)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeepDictRuns checks the evaluation on encoded definition levels
// against the row-by-row rule, for levels in long runs, short runs and
// at random, page lengths that are and are not multiples of eight, and
// both outcomes for NULL rows.
func TestKeepDictRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, rows := range []int{1, 7, 8, 9, 64, 1000, 4099} {
		for _, pNull := range []float64{0, 0.2, 0.84, 0.99, 1} {
			for _, runs := range []bool{false, true} {
				ps, _, _, hit := keepDictCase(rng, rows, 7, 0, false)
				def := make([]byte, rows)
				var idx []int32
				cur := byte(1)
				for r := range def {
					if runs {
						if rng.IntN(40) == 0 {
							cur ^= 1
						}
						def[r] = cur
						if pNull == 1 {
							def[r] = 0
						}
					} else if rng.Float64() >= pNull {
						def[r] = 1
					}
					if def[r] != 0 {
						idx = append(idx, int32(rng.IntN(len(hit))))
					}
				}
				enc := encodeDefLevels(t, def)
				n, err := countDefined(enc, rows)
				if err != nil || n != len(idx) {
					t.Fatalf("rows %d: countDefined = %d, %v; want %d", rows, n, err, len(idx))
				}
				if got := expandDefLevels(nil, enc, rows); !slices.Equal(got, def) {
					t.Fatalf("rows %d: expandDefLevels differs from the levels encoded", rows)
				}
				for _, nullOK := range []bool{false, true} {
					want := slices.Clone(ps)
					keepDictSlow(want, def, nullOK, idx, hit)
					got := slices.Clone(ps)
					keepDictRuns(got, enc, nullOK, idx, hit, nil)
					if !slices.Equal(got, want) {
						t.Fatalf("rows %d, pNull %v, runs %v, nullOK %v: keepDictRuns differs from the row-by-row rule", rows, pNull, runs, nullOK)
					}
				}
			}
		}
	}
}

// FuzzDefLevels checks countDefined and expandDefLevels on arbitrary
// bytes against parquet-go's decoder: what countDefined accepts expands
// to the levels parquet-go decodes, and the count is theirs.
func FuzzDefLevels(f *testing.F) {
	f.Add([]byte{10 << 1, 1}, uint16(10))
	f.Add([]byte{1<<1 | 1, 0xa5, 4 << 1, 0}, uint16(12))
	f.Add([]byte{3<<1 | 1, 0xff, 0x00, 0x0f}, uint16(20))
	f.Add([]byte{0, 1, 2 << 1, 1}, uint16(2))
	f.Fuzz(func(t *testing.T, src []byte, n16 uint16) {
		n := int(n16 % 2048)
		ones, err := countDefined(src, n)
		if err != nil {
			return
		}
		got := expandDefLevels(nil, src, n)
		if len(got) != n {
			t.Fatalf("%d levels expanded, want %d", len(got), n)
		}
		c := 0
		for _, d := range got {
			if d > 1 {
				t.Fatalf("level %d", d)
			}
			c += int(d)
		}
		if c != ones {
			t.Fatalf("countDefined %d, expanded %d ones", ones, c)
		}
		if empty, total := runStats(src); empty || total > 1<<16 {
			// An empty run is read per the format here; parquet-go
			// skips its value. Runs of millions of values would take
			// parquet-go long to write out.
			return
		}
		enc := rle.Encoding{BitWidth: 1}
		if want, err := enc.DecodeLevels(nil, src); err == nil && len(want) >= n && !slices.Equal(got, want[:n]) {
			t.Fatalf("expanded %v, parquet-go decodes %v", got, want[:n])
		}
	})
}

// runStats reports whether the runs of src (bit width 1) hold an RLE run
// of no values, which no writer emits, and how many values they hold.
func runStats(src []byte) (empty bool, total uint64) {
	for len(src) > 0 {
		h, k := binary.Uvarint(src)
		if k <= 0 {
			return empty, total
		}
		src = src[k:]
		if h&1 == 0 {
			empty = empty || h>>1 == 0
			total += h >> 1
			src = src[min(1, len(src)):]
			continue
		}
		total += 8 * (h >> 1)
		src = src[min(uint64(len(src)), h>>1):]
	}
	return empty, total
}
