package projection

import (
	"testing"
	"time"
)

var benchNow = time.Date(2024, 12, 31, 15, 0, 0, 0, time.UTC)

// yearOfDays is the query planner's common case: one tenant, one year of
// daily partitions of loglake's layout.
func yearOfDays() (*Config, map[string]Constraint, *EnumerateOptions) {
	c := Default("s3://bucket/lake", 0, nil)
	cons := map[string]Constraint{
		TenantColumn: Eq("acme"),
		DayColumn:    DateRange(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
	}
	return c, cons, &EnumerateOptions{Now: func() time.Time { return benchNow }, Descending: true}
}

// BenchmarkEnumerate enumerates and renders a year of daily partitions
// for one tenant (366 in 2024). SetBytes counts the rendered locations.
func BenchmarkEnumerate(b *testing.B) {
	c, cons, opts := yearOfDays()
	var n, bytes int
	for p := range c.Enumerate(cons, opts) {
		n++
		bytes += len(p.Location)
	}
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	for b.Loop() {
		for p, err := range c.Enumerate(cons, opts) {
			if err != nil {
				b.Fatal(err)
			}
			_ = p
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "partitions/s")
	b.ReportMetric(float64(n), "partitions/op")
}

// BenchmarkEnumerateTenants: 100 tenants × 30 days, the fan-out of an
// all-tenants admin query.
func BenchmarkEnumerateTenants(b *testing.B) {
	c := Default("s3://bucket/lake", 0, nil)
	tenants := make([]string, 100)
	for i := range tenants {
		tenants[i] = "tenant-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	cons := map[string]Constraint{
		TenantColumn: In(tenants...),
		DayColumn:    Overlapping(benchNow.AddDate(0, 0, -30), benchNow),
	}
	opts := &EnumerateOptions{Now: func() time.Time { return benchNow }}
	n := 0
	for range c.Enumerate(cons, opts) {
		n++
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range c.Enumerate(cons, opts) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "partitions/s")
}

// BenchmarkCount: sizing a five-year, hourly projection without rendering.
func BenchmarkCount(b *testing.B) {
	c := &Config{Columns: []Column{{Name: "h", Type: Date, Format: "yyyy/MM/dd/HH", Range: [2]string{"NOW-5YEARS", "NOW"}, Unit: Hours}}}
	opts := &EnumerateOptions{Now: func() time.Time { return benchNow }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Count(nil, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEnumerateAllocs is the allocation budget of BenchmarkEnumerate's
// walk: a fixed set-up cost plus the arena's O(log n) chunks, nothing per
// partition. (366 partitions; per-partition allocation would be 700+.)
func TestEnumerateAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	c, cons, opts := yearOfDays()
	n := 0
	for range c.Enumerate(cons, opts) {
		n++
	}
	if n != 366 {
		t.Fatalf("enumerated %d partitions, want 366", n)
	}
	const budget = 40
	allocs := testing.AllocsPerRun(20, func() {
		for _, err := range c.Enumerate(cons, opts) {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Logf("%.0f allocations for %d partitions", allocs, n)
	if allocs > budget {
		t.Errorf("%.0f allocations per walk of %d partitions, budget %d", allocs, n, budget)
	}
}
