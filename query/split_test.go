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

// TestSplitRowGroups: a row group read in parts, each seeking to its rows
// over many small pages, gives the reference evaluator's result and the
// same stats as when it is read whole.
func TestSplitRowGroups(t *testing.T) {
	lake := memLake(t)
	day := loglake.NewDay(2026, 11, 20)
	part := loglake.Partition{Tenant: "acme", Day: day}
	r := rand.New(rand.NewPCG(9, 9))
	var lines [][]byte
	var recs []record
	for i := range 20000 {
		ts := day.Start(time.UTC).Add(time.Duration(i) * time.Second)
		path := fmt.Sprintf(`C:\Users\u%d\%s.docx`, r.IntN(50), []string{"report", "社外秘", "plan"}[r.IntN(3)])
		op := []string{"copy", "move", "delete"}[r.IntN(3)]
		rec := record{TenantColumn: "acme", DayColumn: day.String(), "i": int64(i), TimeColumn: ts, "file_path": path, "operation": op}
		line := map[string]any{"i": i, "file_path": path, "operation": op, "timestamp": ts.Format(time.RFC3339Nano)}
		if r.IntN(5) > 0 {
			rec["removable"] = r.IntN(2) == 0
			line["removable"] = rec["removable"]
		}
		lines = append(lines, jsonLine(t, line))
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
	e := newEngine(t, lake, &Options{Parallelism: 3})
	old, oldBytes, oldFiles := splitRows, splitBytes, splitFiles
	splitBytes, splitFiles = 0, 1<<20
	t.Cleanup(func() { splitRows, splitBytes, splitFiles = old, oldBytes, oldFiles })
	for _, sql := range []string{
		`SELECT count(*) FROM logs WHERE tenant_id = 'acme' AND operation = 'copy' AND removable = true AND file_path LIKE '%社外秘%'`,
		`SELECT i, removable, operation FROM logs WHERE tenant_id = 'acme' AND removable = false AND i BETWEEN 100 AND 15000`,
		`SELECT i, file_path FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%u7\%' AND (operation = 'move' OR i < 50)`,
		`SELECT count(*) FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%nowhere%'`,
		`SELECT min(i), max(i), count(removable) FROM logs WHERE tenant_id = 'acme' AND i >= 19990`,
	} {
		q := mustParse(t, sql)
		want, err := refEval(q, recs)
		if err != nil {
			t.Fatal(err)
		}
		var stats [2]Stats
		for k, rows := range []int64{1 << 40, 1000} {
			splitRows = rows
			got, st, err := collect(t, e, q)
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			gotCols, gotRows := recordRows(got)
			if diff := cmp.Diff(canon(want.Columns, want.Rows), canon(gotCols, gotRows)); diff != "" {
				t.Fatalf("splitRows %d: %s\n(-want +got):\n%s", rows, sql, diff)
			}
			stats[k] = st
		}
		type counts struct{ RowGroups, Skipped, RowsScanned, RowsMatched int64 }
		of := func(s Stats) counts {
			return counts{s.RowGroups, s.RowGroupsSkipped, s.RowsScanned, s.RowsMatched}
		}
		if diff := cmp.Diff(of(stats[0]), of(stats[1])); diff != "" {
			t.Errorf("%s: stats whole vs split (-whole +split):\n%s", sql, diff)
		}
		// Parts read shares of the chunks, and stop where no row of theirs
		// survives: never more than the whole.
		if b0, b1 := stats[0].BytesScanned, stats[1].BytesScanned; b1 <= 0 || b1 > b0 {
			t.Errorf("%s: %d bytes scanned split, %d whole", sql, b1, b0)
		}
	}
}
