package query

import "testing"

func BenchmarkParse(b *testing.B) {
	sql := "SELECT timestamp, file_path FROM logs WHERE tenant_id = 'acme' AND dt BETWEEN '2024-05-01' AND '2024-05-31' AND file_path LIKE '%社外秘%' ORDER BY timestamp DESC LIMIT 100"
	b.SetBytes(int64(len(sql)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(sql); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
