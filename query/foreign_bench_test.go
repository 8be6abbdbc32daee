package query

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/projection"
)

// BenchmarkForeign runs the hard case over one tenant-day of a
// Firehose-style bucket: gzip objects of about 8 MiB of envelopes
// concatenated without separators, split while scanned. MB/s is of the
// uncompressed objects.
func BenchmarkForeign(b *testing.B) {
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	g := gen.New(gen.Config{Tenants: 1, Days: 1, End: end, Seed: 7})
	tenant := g.Tenants()[0]
	var size int64
	var body []byte
	flush := func(i int) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(body)
		zw.Close()
		key := fmt.Sprintf("logs/%s/2026/11/20/stream-%d.gz", tenant, i)
		if err := bucket.WriteAll(ctx, key, z.Bytes(), nil); err != nil {
			b.Fatal(err)
		}
		size += int64(len(body))
		body = body[:0]
	}
	for i := 0; g.Records < benchRecordsPerDay; {
		body, _ = g.AppendEnvelope(body)
		if len(body) >= 8<<20 {
			flush(i)
			i++
		}
	}
	flush(-1)
	now := func() time.Time { return end.Add(24 * time.Hour) }
	cfg, err := projection.FromFirehosePrefix("", firehosePrefix, &projection.FirehoseOptions{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	eng, err := NewForeign(bucket, ForeignLayout{Projection: cfg, CarryFields: []string{"device_id"}}, &Options{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	q, err := Parse(fmt.Sprintf("SELECT count(*) FROM logs WHERE tenant_id = '%s' AND dt = '2026-11-20' AND file_path LIKE '%%社外秘%%'", tenant))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		rows, err := eng.Query(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			n = rows.RecordBatch().Column(0).(*array.Int64).Value(0)
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
	}
	if n != int64(g.SecretPaths) {
		b.Fatalf("count %d, want %d", n, g.SecretPaths)
	}
	b.ReportMetric(float64(g.Records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkProbeWindow plans and probes a query without a time constraint
// over an empty mem:// lake: 1,826 partitions, each a Snapshot (two
// LISTs), none read. It measures the engine's per-partition overhead;
// on S3 the LISTs' latency dominates, which ProbeParallelism overlaps.
func BenchmarkProbeWindow(b *testing.B) {
	lake := memLake(b)
	e := newEngine(b, lake, nil)
	q := mustParse(b, "SELECT count(*) FROM logs WHERE tenant_id = 'acme'")
	b.ReportAllocs()
	for b.Loop() {
		_, st, err := collect(b, e, q)
		if err != nil {
			b.Fatal(err)
		}
		if st.PartitionsEmpty != 1826 {
			b.Fatalf("stats %v", st)
		}
	}
	b.ReportMetric(1826*float64(b.N)/b.Elapsed().Seconds(), "partitions/s")
}
