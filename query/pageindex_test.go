package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
)

// TestPageIndexSkipsPages: a compacted day in small pages; queries with a
// narrow time range skip the timestamp column's pages outside it (and the
// other columns' pages at those rows) and return what the reference
// evaluator does.
func TestPageIndexSkipsPages(t *testing.T) {
	lake := memLake(t)
	day := loglake.NewDay(2026, 11, 20)
	part := loglake.Partition{Tenant: "acme", Day: day}
	r := rand.New(rand.NewPCG(5, 5))
	var lines [][]byte
	var recs []record
	for i := range 60000 {
		ts := day.Start(time.UTC).Add(time.Duration(r.Int64N(int64(24*time.Hour))) / time.Millisecond * time.Millisecond)
		path := fmt.Sprintf(`C:\Users\u%d\%s.docx`, r.IntN(50), []string{"report", "社外秘", "plan"}[r.IntN(3)])
		rec := record{TenantColumn: "acme", DayColumn: day.String(), "i": int64(i), TimeColumn: ts, "file_path": path}
		if r.IntN(10) == 0 {
			delete(rec, TimeColumn) // some records without a time
			lines = append(lines, jsonLine(t, map[string]any{"i": i, "file_path": path}))
		} else {
			lines = append(lines, jsonLine(t, map[string]any{"i": i, "file_path": path, "timestamp": ts.Format(time.RFC3339Nano)}))
		}
		recs = append(recs, rec)
	}
	putRaw(t, lake, part, "a", lines, loglake.CompressionZstd)
	c, err := compact.New(lake, &compact.Options{PageBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompactPartition(context.Background(), part); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, lake, &Options{Parallelism: 2})
	read := map[string]int64{}
	for _, tc := range []struct {
		sql  string
		skip bool
	}{
		{`SELECT i, timestamp FROM logs WHERE tenant_id = 'acme' AND timestamp BETWEEN TIMESTAMP '2026-11-20 10:00' AND TIMESTAMP '2026-11-20 11:00'`, true},
		{`SELECT i, file_path FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%' AND timestamp >= TIMESTAMP '2026-11-20 23:30' AND timestamp < TIMESTAMP '2026-11-21 00:00'`, true},
		{`SELECT count(*) FROM logs WHERE tenant_id = 'acme' AND timestamp = TIMESTAMP '2026-11-20 12:00:00.000'`, true},
		{`SELECT count(*), min(i) FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%u7\%' AND timestamp BETWEEN TIMESTAMP '2026-11-20 06:00' AND TIMESTAMP '2026-11-20 18:00'`, true},
		{`SELECT count(*) FROM logs WHERE tenant_id = 'acme' AND timestamp >= TIMESTAMP '2026-11-19 12:00'`, false},
		{`SELECT i, timestamp FROM logs WHERE tenant_id = 'acme' AND timestamp >= TIMESTAMP '2026-11-19 12:00'`, false},
	} {
		q := mustParse(t, tc.sql)
		got, st, err := collect(t, e, q)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		want, err := refEval(q, recs)
		if err != nil {
			t.Fatal(err)
		}
		gotRows := make([][]any, len(got))
		for i, g := range got {
			for _, c := range want.Columns {
				gotRows[i] = append(gotRows[i], normValue(g[c]))
			}
		}
		if diff := cmp.Diff(canon(want.Columns, want.Rows), canon(want.Columns, gotRows)); diff != "" {
			t.Errorf("%s (-reference +engine):\n%s", tc.sql, diff)
		}
		if tc.skip != (st.PagesSkipped > 0) {
			t.Errorf("%s: %d pages skipped, want skipping %v: %v", tc.sql, st.PagesSkipped, tc.skip, st)
		}
		read[tc.sql] = st.BytesRead
		if st.ObjectsOpened == 0 {
			t.Errorf("%s: read no Parquet file: %v", tc.sql, st)
		}
	}
	// The skipped pages of i were not fetched either.
	narrow := read[`SELECT i, timestamp FROM logs WHERE tenant_id = 'acme' AND timestamp BETWEEN TIMESTAMP '2026-11-20 10:00' AND TIMESTAMP '2026-11-20 11:00'`]
	wide := read[`SELECT i, timestamp FROM logs WHERE tenant_id = 'acme' AND timestamp >= TIMESTAMP '2026-11-19 12:00'`]
	if narrow*2 > wide {
		t.Errorf("an hour read %d bytes, the whole day %d", narrow, wide)
	}
}
