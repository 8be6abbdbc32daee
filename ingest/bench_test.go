package ingest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
)

// benchInput is generated NDJSON envelopes, cut into chunks of about 1 MiB
// as a service would receive them.
type benchInput struct {
	chunks  [][]byte
	bytes   int
	records int
}

var (
	benchOnce sync.Once
	benchData benchInput
)

func loadBenchInput() benchInput {
	benchOnce.Do(func() {
		g := gen.New(gen.Config{Tenants: 50, Days: 3})
		data, n := g.AppendNDJSON(nil, 200_000)
		benchData.bytes, benchData.records = len(data), n
		for len(data) > 0 {
			cut := min(len(data), 1<<20)
			for cut < len(data) && data[cut-1] != '\n' {
				cut++
			}
			benchData.chunks = append(benchData.chunks, data[:cut])
			data = data[cut:]
		}
	})
	return benchData
}

// benchIngest streams the input through one long-lived Ingestor per
// iteration batch: each iteration adds every chunk and flushes, so the
// numbers include compression and writes, in steady state.
func benchIngest(b *testing.B, url string, opts Options, parallel bool) {
	ctx := context.Background()
	in := loadBenchInput()
	lake, err := loglake.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer lake.Close()
	ing, err := New(lake, &opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(in.bytes))
	records := 0
	cpu0 := processCPU()
	for b.Loop() {
		if parallel {
			var next atomic.Int64
			var wg sync.WaitGroup
			for range runtime.GOMAXPROCS(0) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						k := int(next.Add(1)) - 1
						if k >= len(in.chunks) {
							return
						}
						if err := ing.Add(ctx, in.chunks[k]); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		} else {
			for _, c := range in.chunks {
				if err := ing.Add(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := ing.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		records += in.records
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(records), "cpu-ns/record")
	}
	if err := ing.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIngest measures Add → raw objects end to end, with zstd.
func BenchmarkIngest(b *testing.B) {
	opts := Options{CarryFields: []string{"device_id"}}
	b.Run("mem", func(b *testing.B) { benchIngest(b, "mem://", opts, false) })
	b.Run("mem/parallel", func(b *testing.B) { benchIngest(b, "mem://", opts, true) })
	b.Run("file", func(b *testing.B) { benchIngest(b, b.TempDir(), opts, false) })
	// The other zstd levels (the default is 2), for their ingest cost.
	for _, lv := range []int{1, 3} {
		o := opts
		o.ZstdLevel = lv
		b.Run(fmt.Sprintf("mem/zstd%d", lv), func(b *testing.B) { benchIngest(b, "mem://", o, false) })
	}
}

// BenchmarkIngestScan measures splitting and formatting alone.
func BenchmarkIngestScan(b *testing.B) {
	in := loadBenchInput()
	lake, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		b.Fatal(err)
	}
	ing, err := New(lake, &Options{CarryFields: []string{"device_id"}})
	if err != nil {
		b.Fatal(err)
	}
	defer ing.Close(context.Background())
	l := ing.newLocal()
	b.ReportAllocs()
	b.SetBytes(int64(in.bytes))
	cpu0 := processCPU()
	for b.Loop() {
		for _, c := range in.chunks {
			l.reset()
			ing.feed(l, c, InputRef{}, nil)
		}
	}
	b.ReportMetric(float64(in.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(in.records*b.N), "cpu-ns/record")
	}
}

// BenchmarkIngestPeakHeap streams generated envelopes (made on the fly, so
// the input is never in memory at once) into a file:// lake with a budget of
// 8 MiB, and reports the peak heap above the baseline: it stays near
// MaxBufferedBytes plus a constant whatever the input size.
func BenchmarkIngestPeakHeap(b *testing.B) {
	const budget = 8 << 20
	for _, records := range []int{100_000, 400_000, 1_600_000} {
		b.Run(fmt.Sprintf("records=%d", records), func(b *testing.B) {
			ctx := context.Background()
			lake, err := loglake.Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer lake.Close()
			b.ReportAllocs()
			var peak uint64
			var inBytes int64
			for b.Loop() {
				ing, err := New(lake, &Options{MaxBufferedBytes: budget})
				if err != nil {
					b.Fatal(err)
				}
				g := gen.New(gen.Config{Tenants: 50})
				var base runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&base)
				stop := make(chan struct{})
				done := make(chan uint64)
				go func() { // sample the heap
					var m runtime.MemStats
					var p uint64
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						runtime.ReadMemStats(&m)
						if m.HeapAlloc > base.HeapAlloc {
							p = max(p, m.HeapAlloc-base.HeapAlloc)
						}
						select {
						case <-stop:
							done <- p
							return
						case <-t.C:
						}
					}
				}()
				var chunk []byte
				inBytes = 0
				for g.Records < records {
					chunk, _ = g.AppendNDJSON(chunk[:0], 5000)
					inBytes += int64(len(chunk))
					if err := ing.Add(ctx, chunk); err != nil {
						b.Fatal(err)
					}
				}
				if err := ing.Close(ctx); err != nil {
					b.Fatal(err)
				}
				close(stop)
				peak = max(peak, <-done)
			}
			b.SetBytes(inBytes)
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(inBytes)/(1<<20), "input-MiB")
		})
	}
}

// BenchmarkAddStream measures AddStream end to end (cutting, hashing,
// formatting, zstd, writes) on the benchmark input as one stream, at a few
// batch sizes: larger batches write fewer objects.
func BenchmarkAddStream(b *testing.B) {
	ctx := context.Background()
	in := loadBenchInput()
	data := bytes.Join(in.chunks, nil)
	for _, mib := range []int{4, 16, 64} {
		b.Run(fmt.Sprintf("batch=%dMiB", mib), func(b *testing.B) {
			lake, err := loglake.Open(ctx, "mem://")
			if err != nil {
				b.Fatal(err)
			}
			defer lake.Close()
			ing, err := New(lake, &Options{CarryFields: []string{"device_id"}})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			var objects int
			cpu0 := processCPU()
			for b.Loop() {
				res, err := ing.AddStream(ctx, bytes.NewReader(data), StreamOptions{BatchBytes: mib << 20})
				if err != nil {
					b.Fatal(err)
				}
				objects = res.Objects
			}
			records := float64(in.records) * float64(b.N)
			b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(objects), "objects")
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/records, "cpu-ns/record")
			}
			if err := ing.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
