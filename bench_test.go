package loglake_test

import (
	"testing"

	"github.com/loglake/loglake"
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
