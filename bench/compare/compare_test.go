package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake/internal/gen"
)

func TestSQL(t *testing.T) {
	tests := []struct {
		name      string
		q         querySpec
		wantWhere string
		wantDuck  string
	}{
		{
			name:      "tenant-day raw",
			q:         querySpec{Source: "raw", Tenants: []string{"t1"}, From: "2026-11-20", To: "2026-11-20", Where: "x = 1"},
			wantWhere: "tenant_id = 't1' AND dt = '2026-11-20' AND (x = 1)",
			wantDuck:  "SELECT count(*) FROM read_json('/l/raw/tenant_id=t1/dt=2026-11-20/*.ndjson.zst', format = 'newline_delimited', hive_partitioning = true, " + rawColumns + ") WHERE tenant_id = 't1' AND dt = '2026-11-20' AND (x = 1)",
		},
		{
			name:      "tenant-week parquet",
			q:         querySpec{Source: "parquet", Tenants: []string{"t1"}, From: "2026-11-14", To: "2026-11-20", Where: "x = 1"},
			wantWhere: "tenant_id = 't1' AND dt BETWEEN '2026-11-14' AND '2026-11-20' AND (x = 1)",
			wantDuck:  "SELECT count(*) FROM read_parquet('/l/compacted/tenant_id=t1/*/*.parquet', hive_partitioning = true, union_by_name = true) WHERE tenant_id = 't1' AND dt BETWEEN '2026-11-14' AND '2026-11-20' AND (x = 1)",
		},
		{
			name:      "cross-tenant",
			q:         querySpec{Source: "parquet", From: "2026-11-14", To: "2026-11-20", Where: "x = 1"},
			wantWhere: "dt BETWEEN '2026-11-14' AND '2026-11-20' AND (x = 1)",
			wantDuck:  "SELECT count(*) FROM read_parquet('/l/compacted/*/*/*.parquet', hive_partitioning = true, union_by_name = true) WHERE dt BETWEEN '2026-11-14' AND '2026-11-20' AND (x = 1)",
		},
		{
			name:      "tenant-day, lake glob",
			q:         querySpec{Source: "parquet", Tenants: []string{"t1"}, From: "2026-11-20", To: "2026-11-20", Where: "x = 1", LakeGlob: true},
			wantWhere: "tenant_id = 't1' AND dt = '2026-11-20' AND (x = 1)",
			wantDuck:  "SELECT count(*) FROM read_parquet('/l/compacted/*/*/*.parquet', hive_partitioning = true, union_by_name = true) WHERE tenant_id = 't1' AND dt = '2026-11-20' AND (x = 1)",
		},
		{
			name:      "two tenants",
			q:         querySpec{Source: "raw", Tenants: []string{"a", "b"}, From: "2026-11-20", To: "2026-11-20", Where: "x = 1"},
			wantWhere: "tenant_id IN ('a', 'b') AND dt = '2026-11-20' AND (x = 1)",
			wantDuck:  "SELECT count(*) FROM read_json('/l/raw/*/*/*.ndjson.zst', format = 'newline_delimited', hive_partitioning = true, " + rawColumns + ") WHERE tenant_id IN ('a', 'b') AND dt = '2026-11-20' AND (x = 1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.wantWhere, tt.q.sqlWhere()); d != "" {
				t.Errorf("sqlWhere (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantDuck, duckQuerySQL("/l", &tt.q)); d != "" {
				t.Errorf("duckQuerySQL (-want +got):\n%s", d)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	f := func(times []float64, want float64) {
		t.Helper()
		var s samples
		for _, x := range times {
			s.add(result{Seconds: x}, nil)
		}
		if got := s.median(); got != want {
			t.Errorf("median(%v) = %v, want %v", times, got, want)
		}
	}
	f(nil, 0)
	f([]float64{3}, 3)
	f([]float64{5, 1, 3}, 3)
	f([]float64{4, 1, 3, 2}, 2.5)
}

// TestReferee checks the referee's counts against the generator's own.
func TestReferee(t *testing.T) {
	g := gen.New(gen.Config{Tenants: 3, Days: 2, End: dataEnd})
	data, n := g.AppendNDJSON(nil, 5000)
	ref, err := newReferee(data)
	if err != nil {
		t.Fatal(err)
	}
	if ref.records != int64(n) {
		t.Errorf("referee counted %d records, generator %d", ref.records, n)
	}
	// All tenants, every day the data touches (envelopes may straddle
	// midnight past the last day).
	q := querySpec{From: "2000-01-01", To: "2999-12-31"}
	scope, matched := ref.count(&q, predicates[0])
	if scope != int64(n) || matched != int64(g.SecretPaths) {
		t.Errorf("LIKE over everything: scope %d, matched %d; want %d, %d", scope, matched, n, g.SecretPaths)
	}
}

func TestSplitChunks(t *testing.T) {
	data := []byte("aaaa\nbb\ncccccc\nd\n")
	got := splitChunks(data, 5)
	want := [][]byte{[]byte("aaaa\n"), []byte("bb\ncccccc\n"), []byte("d\n")}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
