package compact

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
)

func TestSortPerm(t *testing.T) {
	for _, n := range []int{0, 1, 2, 255, 256, 257, 1000, 65536} {
		for _, spread := range []uint64{1, 7, 1 << 20, 1 << 62} {
			rng := rand.New(rand.NewPCG(uint64(n), spread))
			keys := make([]uint64, n)
			base := rng.Uint64() / 2
			for i := range keys {
				keys[i] = base + rng.Uint64N(spread)
			}
			want := identityPerm(n)
			slices.SortStableFunc(want, func(a, b int32) int {
				switch {
				case keys[a] < keys[b]:
					return -1
				case keys[a] > keys[b]:
					return 1
				}
				return 0
			})
			if diff := cmp.Diff(want, sortPerm(keys)); diff != "" {
				t.Fatalf("n=%d spread=%d: -want +got\n%s", n, spread, diff)
			}
		}
	}
}

func TestCutAt(t *testing.T) {
	data := []byte("aaaa\n\nbb\ncccccc\n")
	for _, tc := range []struct {
		have, limit int64
		want        int
	}{
		{0, 100, len(data)},
		{0, 1, 5},  // the first line reaches it
		{0, 5, 5},  // exactly
		{0, 6, 9},  // the blank line counts nothing
		{0, 9, 16}, // the last line
		{90, 100, 16},
		{99, 100, 5},
	} {
		if got := cutAt(data, tc.have, tc.limit); got != tc.want {
			t.Errorf("cutAt(have %d, limit %d) = %d, want %d", tc.have, tc.limit, got, tc.want)
		}
	}
}

// TestParallelParseKeepsInputOrder compacts many raw objects with more
// parse workers than objects per block, with few distinct timestamps (many
// ties) and a column whose type differs between objects. The file must be
// what one chunk fed the input in order would write: sorted by time, ties
// in input order, the column widened to string in every row.
func TestParallelParseKeepsInputOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	ctx := context.Background()
	lake := memLake(t)
	day := loglake.DayOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.UTC)
	p := loglake.Partition{Tenant: "acme", Day: day}
	seq := 0
	var want []Record
	for obj := range 24 {
		var lines [][]byte
		for i := range 3000 {
			ts := time.Date(2026, 3, 1, 0, 0, (seq*7919)%50, 0, time.UTC)
			var x string
			switch obj % 3 {
			case 0:
				x = fmt.Sprint(i) // int64 here
			case 1:
				x = fmt.Sprintf("%d.5", i) // float64 here
			default:
				x = fmt.Sprintf("%q", fmt.Sprint("s", i)) // string here
			}
			lines = append(lines, fmt.Appendf(nil, `{"timestamp":%q,"seq":%d,"x":%s,"pad":%q}`, ts.Format(time.RFC3339), seq, x, bytes.Repeat([]byte("p"), 40)))
			want = append(want, Record{"timestamp": ts, "seq": int64(seq), "x": fmt.Sprint(map[bool]string{true: "s", false: ""}[obj%3 == 2], i, map[bool]string{true: ".5", false: ""}[obj%3 == 1])})
			seq++
		}
		putRaw(t, lake, p, fmt.Sprintf("w-%03d", obj), lines, loglake.CompressionZstd)
	}
	slices.SortStableFunc(want, func(a, b Record) int { return a["timestamp"].(time.Time).Compare(b["timestamp"].(time.Time)) })
	for _, r := range want {
		r["pad"] = string(bytes.Repeat([]byte("p"), 40))
	}
	c, err := New(lake, &Options{CommitterID: "t"})
	if err != nil {
		t.Fatal(err)
	}
	res := mustCompact(t, c, p)
	if len(res.Files) != 1 {
		t.Fatalf("%d files, want 1", len(res.Files))
	}
	got, err := ReadParquet(ctx, lake, res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("-want +got (first lines):\n%.3000s", diff)
	}
}

// TestRunsCutAtBufferBytes checks that the parallel reader ends a run
// where the serial one did: at the line that reaches BufferBytes.
func TestRunsCutAtBufferBytes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	lake := memLake(t)
	p := loglake.Partition{Tenant: "acme", Day: loglake.DayOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.UTC)}
	var lines [][]byte
	for i := range 10000 {
		lines = append(lines, fmt.Appendf(nil, `{"timestamp":"2026-03-01T00:00:%02dZ","i":"%05d"}`, i%60, i))
	}
	lineBytes := int64(len(lines[0]) + 1) // all lines are as long
	putRawSplit(t, lake, p, "w", lines, 777)
	const buf = 64 << 10
	c, err := New(lake, &Options{BufferBytes: buf, CommitterID: "t"})
	if err != nil {
		t.Fatal(err)
	}
	res := mustCompact(t, c, p)
	perFile := (buf + lineBytes - 1) / lineBytes
	for i, f := range res.Files {
		want := perFile
		if i == len(res.Files)-1 {
			want = int64(len(lines)) - perFile*int64(len(res.Files)-1)
		}
		if f.Rows != want {
			t.Errorf("file %d: %d rows, want %d", i, f.Rows, want)
		}
	}
	if res.Records != int64(len(lines)) || res.InputBytes != int64(len(lines))*lineBytes {
		t.Fatalf("%d records, %d input bytes; want %d, %d", res.Records, res.InputBytes, len(lines), int64(len(lines))*lineBytes)
	}
}

// TestColumnBuffers checks the column buffers against Arrow's builders,
// nulls at every position of a validity byte included, with buffers from
// the Go heap and from an arena (whose memory, in tests, starts out full
// of garbage: see TestMain).
func TestColumnBuffers(t *testing.T) {
	for _, a := range []*arena{nil, {}} {
		testColumnBuffers(t, a)
		a.release()
	}
}

func testColumnBuffers(t *testing.T, a *arena) {
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 1000, 100_000} {
		for _, pattern := range []func(i int) bool{
			func(int) bool { return true },
			func(int) bool { return false },
			func(i int) bool { return i%3 != 0 },
			func(i int) bool { return i >= n/2 },
			func(i int) bool { return i < n/2 },
		} {
			sb, ib, fb := newStrBuf(a, colSize{}), newNumBuf[int64](a, colSize{}), newNumBuf[float64](a, colSize{vals: n / 2})
			wantS := array.NewStringBuilder(memory.DefaultAllocator)
			wantI := array.NewInt64Builder(memory.DefaultAllocator)
			for i := range n {
				if pattern(i) {
					s := fmt.Sprint("v", i, strings.Repeat("x", i%50))
					sb.append([]byte(s))
					wantS.Append(s)
					ib.append(int64(i))
					fb.append(float64(i))
					wantI.Append(int64(i))
				} else {
					sb.appendNulls(1)
					wantS.AppendNull()
					ib.appendNulls(1)
					fb.appendNulls(1)
					wantI.AppendNull()
				}
			}
			gotS, ws := sb.newArray(), wantS.NewArray()
			if !array.Equal(gotS, ws) {
				t.Fatalf("n=%d: strings %v, want %v", n, gotS, ws)
			}
			gotI, wi := ib.newArray(arrow.PrimitiveTypes.Int64), wantI.NewArray()
			if !array.Equal(gotI, wi) {
				t.Fatalf("n=%d: ints %v, want %v", n, gotI, wi)
			}
			gotF := fb.newArray(arrow.PrimitiveTypes.Float64)
			if gotF.NullN() != wi.NullN() || gotF.Len() != n {
				t.Fatalf("n=%d: floats %v", n, gotF)
			}
			for i := range n {
				if gotF.IsValid(i) && gotF.(*array.Float64).Value(i) != float64(i) {
					t.Fatalf("n=%d: float %d is %v", n, i, gotF.(*array.Float64).Value(i))
				}
			}
		}
	}
}

// TestMemoryBoundWithManyWorkers is TestSmallBufferBoundsMemory with more
// parse workers than CPUs: the run's budget is shared by the workers, so
// the heap stays bounded by BufferBytes, not by BufferBytes × workers.
func TestMemoryBoundWithManyWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 9}, 30000)
	p := biggest(parts)
	lines := parts[p]
	putRawSplit(t, lake, p, "w", lines, 2000)
	seqs := seqsOf(t, lines)
	parts, lines = nil, nil
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	const buf = 1 << 20
	c, _ := New(lake, &Options{BufferBytes: buf, RowGroupRows: 1000})
	runtime.GC()
	base := heapObjects()
	var peak atomic.Uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			if v := heapObjects(); v > peak.Load() {
				peak.Store(v)
			}
		}
	}()
	mustCompact(t, c, p)
	close(stop)
	<-sampled
	checkExactlyOnce(t, lake, p, seqs)
	grew := int64(peak.Load()) - int64(base)
	t.Logf("8 workers: heap grew by at most %d KiB", grew>>10)
	if grew > 16*buf {
		t.Fatalf("heap grew by %d bytes compacting with a %d-byte buffer and 8 workers", grew, buf)
	}
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
