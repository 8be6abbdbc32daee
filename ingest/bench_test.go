package ingest

import (
	"context"
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
	ing, err := New(lake, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(in.bytes))
	records := 0
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
}

// BenchmarkIngestScan measures splitting and formatting alone.
func BenchmarkIngestScan(b *testing.B) {
	in := loadBenchInput()
	lake, err := loglake.Open(context.Background(), "mem://")
	if err != nil {
		b.Fatal(err)
	}
	ing, err := New(lake, Options{CarryFields: []string{"device_id"}})
	if err != nil {
		b.Fatal(err)
	}
	defer ing.Close(context.Background())
	l := ing.newLocal()
	b.ReportAllocs()
	b.SetBytes(int64(in.bytes))
	for b.Loop() {
		for _, c := range in.chunks {
			l.reset()
			ing.feed(l, c, InputRef{}, nil)
		}
	}
	b.ReportMetric(float64(in.records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkIngestPeakHeap ingests 8× MaxBufferedBytes of input and reports
// the peak heap in use: it stays near MaxBufferedBytes plus a constant,
// whatever the input size.
func BenchmarkIngestPeakHeap(b *testing.B) {
	ctx := context.Background()
	in := loadBenchInput()
	const budget = 16 << 20
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		b.Fatal(err)
	}
	// mem:// keeps every object in memory; count only what the Ingestor holds.
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		ing, err := New(lake, Options{MaxBufferedBytes: budget, BufferBytes: 4 << 20})
		if err != nil {
			b.Fatal(err)
		}
		var base runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&base)
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() {
			var m runtime.MemStats
			var p uint64
			for {
				runtime.ReadMemStats(&m)
				p = max(p, m.HeapAlloc)
				select {
				case <-stop:
					done <- p
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		for _, c := range in.chunks {
			if err := ing.Add(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		if err := ing.Close(ctx); err != nil {
			b.Fatal(err)
		}
		close(stop)
		p := <-done
		_ = base
		peak = max(peak, p)
		b.SetBytes(int64(in.bytes))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
