package compact

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/bigmem"
	"github.com/loglake/loglake/internal/gen"
)

// benchInput writes records of tenants partitions into a fresh mem:// lake
// and returns it with the NDJSON bytes and records written.
func benchInput(b *testing.B, tenants, records int) (*loglake.Lake, []loglake.Partition, int64, int) {
	lake := memLake(b)
	parts := genLines(b, gen.Config{Tenants: tenants, Days: 1, Seed: 42}, records)
	var ps []loglake.Partition
	var bytes int64
	n := 0
	for p, lines := range parts {
		ps = append(ps, p)
		for _, l := range lines {
			bytes += int64(len(l)) + 1
		}
		n += len(lines)
		putRawSplit(b, lake, p, "w", lines, 20000)
	}
	return lake, ps, bytes, n
}

// peakHeap samples the heap's live and unswept objects (HeapAlloc), plus
// the buffers of raw objects read whole, which live outside the heap,
// until stop is closed. It reads runtime/metrics, which does not stop the
// world as runtime.ReadMemStats does: sampling every few milliseconds with
// ReadMemStats would itself cost the benchmark a tenth of its CPU.
func peakHeap(stop <-chan struct{}) *atomic.Uint64 {
	var peak atomic.Uint64
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64() + uint64(bigmem.Mapped()); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return &peak
}

// BenchmarkCompact measures raw NDJSON (zstd objects in a mem:// lake) to
// Parquet: MB/s of uncompressed input, records/s, the output/input size
// ratio, the peak heap, and MB per CPU-second (which a busy machine
// disturbs less than MB/s). Each iteration restores the raw objects and
// removes the compacted area, outside the timer.
func BenchmarkCompact(b *testing.B) {
	for _, tc := range []struct {
		name        string
		tenants     int
		concurrency int
		zstdLevel   int
	}{
		{"1tenant", 1, 1, 0},
		{"8tenants", 8, 2, 0},
		{"1tenant/zstd=fastest", 1, 1, 1}, // speed and size against the default level
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			lake, ps, inBytes, records := benchInput(b, tc.tenants, 400_000)
			// Keep the raw objects to restore them each iteration.
			saved := map[string][]byte{}
			for obj, err := range lake.List(ctx, "raw/", "") {
				if err != nil {
					b.Fatal(err)
				}
				saved[obj.Key], _ = lake.ReadAll(ctx, obj.Key)
			}
			c, err := New(lake, &Options{Concurrency: tc.concurrency, ZstdLevel: tc.zstdLevel})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(inBytes)
			b.ReportAllocs()
			var outBytes int64
			stop := make(chan struct{})
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			peak := peakHeap(stop)
			var cpu time.Duration
			for b.Loop() {
				cpu0 := cpuTime()
				rep, err := c.Run(ctx, Plan{All: true})
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - cpu0
				b.StopTimer()
				outBytes = 0
				for _, pr := range rep.Partitions {
					for _, f := range pr.Files {
						outBytes += f.Size
					}
				}
				for obj, err := range lake.List(ctx, "compacted/", "") {
					if err != nil {
						b.Fatal(err)
					}
					_ = lake.Delete(ctx, obj.Key)
				}
				for k, v := range saved {
					_ = lake.WriteAll(ctx, k, v, nil)
				}
				b.StartTimer()
			}
			close(stop)
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(outBytes)/float64(inBytes), "out/in")
			if cpu > 0 {
				b.ReportMetric(float64(inBytes)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
			}
			b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapAlloc))/(1<<20), "peak-heap-MiB")
			_ = ps
		})
	}
}

// BenchmarkScanLine measures the NDJSON scanner and Arrow column building
// alone.
func BenchmarkScanLine(b *testing.B) {
	parts := genLines(b, gen.Config{Tenants: 1, Days: 1}, 20000)
	p := biggest(parts)
	lines := parts[p]
	var n int64
	for _, l := range lines {
		n += int64(len(l)) + 1
	}
	cfg := &chunkConfig{tsField: "timestamp", tenantField: "tenant_id", tenant: p.Tenant, rules: timeRules{true, true, true}, maxColumns: 1000}
	b.SetBytes(n)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		ch := newChunk(cfg)
		for _, l := range lines {
			ch.addLine(l)
		}
		ch.seal(true).release()
	}
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
	b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	_ = fmt.Sprint
}
