package loglake_test

import (
	"context"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/internal/gen"
)

// BenchmarkPartitionKey measures rendering and parsing a partition key, the
// step every record's routing and every planned partition goes through.
func BenchmarkPartitionKey(b *testing.B) {
	p := loglake.Partition{Tenant: "tenant-001", Day: loglake.NewDay(2026, 11, 23)}
	b.Run("append", func(b *testing.B) {
		buf := make([]byte, 0, 64)
		b.ReportAllocs()
		b.SetBytes(int64(len(p.Prefix(loglake.AreaRaw))))
		for b.Loop() {
			buf = p.AppendPrefix(buf[:0], loglake.AreaRaw)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("parse", func(b *testing.B) {
		key := p.Key()
		b.ReportAllocs()
		b.SetBytes(int64(len(key)))
		for b.Loop() {
			if _, err := loglake.ParsePartitionKey(key); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(p.Tenant)))
		for b.Loop() {
			if err := loglake.ValidateTenant(p.Tenant); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIngest runs the first stage of the flow end to end: envelopes
// from the quickstart generator, in NDJSON chunks of about 1 MiB, through an
// Ingestor (split, route, buffer, zstd, write) into mem:// and file://
// lakes. SetBytes is the envelope input; records/s counts split records.
func BenchmarkIngest(b *testing.B) {
	g := gen.New(gen.Config{Tenants: 50})
	var chunks [][]byte
	var inBytes, records int
	for records < 200_000 {
		c, n := g.AppendNDJSON(nil, 5000)
		chunks = append(chunks, c)
		inBytes += len(c)
		records += n
	}
	for _, bc := range []struct{ name, url string }{{"mem", "mem://"}, {"file", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			url := bc.url
			if url == "" {
				url = b.TempDir()
			}
			lake, err := loglake.Open(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer lake.Close()
			in, err := ingest.New(lake, &ingest.Options{CarryFields: []string{"device_id"}})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(inBytes))
			for b.Loop() {
				for _, c := range chunks {
					if err := in.Add(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
				if err := in.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if err := in.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkIngestCompact runs the flow to Parquet: envelopes through an
// Ingestor into a mem:// lake, then a compaction of every partition. Each
// iteration uses a fresh lake. SetBytes is the envelope input.
func BenchmarkIngestCompact(b *testing.B) {
	g := gen.New(gen.Config{Tenants: 8, Days: 2})
	var chunks [][]byte
	var inBytes, records int
	for records < 200_000 {
		c, n := g.AppendNDJSON(nil, 5000)
		chunks = append(chunks, c)
		inBytes += len(c)
		records += n
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(inBytes))
	for b.Loop() {
		lake, err := loglake.Open(ctx, "mem://")
		if err != nil {
			b.Fatal(err)
		}
		in, err := ingest.New(lake, &ingest.Options{CarryFields: []string{"device_id"}})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range chunks {
			if err := in.Add(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		if err := in.Close(ctx); err != nil {
			b.Fatal(err)
		}
		c, err := compact.New(lake, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Run(ctx, compact.Plan{All: true}); err != nil {
			b.Fatal(err)
		}
		lake.Close()
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
