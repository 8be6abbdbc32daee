package loglaketest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
)

// RunBenchmarks measures the storage operations loglake's stages are made
// of, on the backend that newHarness describes: writing raw objects and
// Parquet files, reading them back, and create-only manifest commits. Each
// reports MB/s (b.SetBytes) and objects/s. If newHarness skips, so does
// the benchmark.
//
// The numbers are the backend's, seen through the Lake: they bound what
// ingest (one write per flush) and compaction (reads, writes and one
// create-only commit per partition) can do on it.
func RunBenchmarks(b *testing.B, newHarness HarnessMaker) {
	ctx := context.Background()
	h, err := newHarness(ctx, b)
	if err != nil {
		b.Fatalf("make harness: %v", err)
	}
	b.Cleanup(h.Close)
	f := &fixture{h: h, ctx: ctx}
	sizes := []int{4 << 10, 1 << 20}
	for _, size := range sizes {
		b.Run("WriteAll/"+sizeName(size), func(b *testing.B) { benchWrite(b, f, size) })
	}
	for _, size := range sizes {
		b.Run("ReadAll/"+sizeName(size), func(b *testing.B) { benchRead(b, f, size) })
	}
	b.Run("CreateOnly/1KiB", func(b *testing.B) { benchCreateOnly(b, f, 1<<10) })
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

func reportObjects(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
}

// benchWrite writes objects of size bytes, each under a key of its own (as
// ingest does: one new object per flush).
func benchWrite(b *testing.B, f *fixture, size int) {
	l := f.lake(b)
	data := pattern(size, 1)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		key := fmt.Sprintf("raw/tenant_id=acme/dt=2026-03-01/w1-%08d.ndjson.zst", n)
		if err := l.WriteAll(f.ctx, key, data, nil); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportObjects(b, n)
}

// benchRead reads a few objects of size bytes round-robin.
func benchRead(b *testing.B, f *fixture, size int) {
	l := f.lake(b)
	const objects = 8
	for i := range objects {
		if err := l.WriteAll(f.ctx, readKey(i), pattern(size, byte(i)), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		data, err := l.ReadAll(f.ctx, readKey(n%objects))
		if err != nil {
			b.Fatal(err)
		}
		if len(data) != size {
			b.Fatalf("read %d bytes, want %d", len(data), size)
		}
		n++
	}
	reportObjects(b, n)
}

func readKey(i int) string {
	return "compacted/tenant_id=acme/dt=2026-03-01/part-" + strconv.Itoa(i) + ".parquet"
}

// benchCreateOnly commits manifests: one create-only write per new
// generation, as a compaction does per partition.
func benchCreateOnly(b *testing.B, f *fixture, size int) {
	l := f.lake(b)
	data := pattern(size, 2)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		key := fmt.Sprintf("compacted/tenant_id=acme/dt=2026-03-01/_manifest/%08d.json", n)
		if err := l.CreateOnly(f.ctx, key, data); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportObjects(b, n)
}
