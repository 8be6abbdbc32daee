package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
	"github.com/google/go-cmp/cmp"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/internal/gen"
)

// special is a tenant whose records hold values chosen to break a careless
// encoding: an integer beyond float64's 2^53, a negative one, microsecond
// times at the edges of a day, Japanese text, backslashes, quotes, emoji.
const special = "interop-special"

var specialEnvelope = `{"tenant_id":"` + special + `","device_id":"pc-x","log":[` +
	`{"timestamp":"2026-11-20T00:00:00.000001Z","log_type":"file","user":"山田","operation":"copy","file_path":"C:\\Users\\山田\\社外秘\\\"見積\"_v2 🚀.xlsx","size":9007199254740993,"removable":true},` +
	`{"timestamp":"2026-11-20T23:59:59.999999Z","log_type":"app","user":"suzuki","app":"EXCEL.EXE","pid":-42,"size":0,"removable":false}` +
	`]}`

// TestDuckDBReadsCompactedLake ingests and compacts generated logs with
// loglake and reads the Parquet files back with DuckDB.
func TestDuckDBReadsCompactedLake(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lake, err := loglake.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()

	g := gen.New(gen.Config{Tenants: 5, Days: 3, End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	envelopes, n := g.AppendNDJSON(nil, 20_000)
	envelopes = append(envelopes, specialEnvelope+"\n"...)
	n += 2
	ingestAll(ctx, t, lake, envelopes)
	c, err := compact.New(lake, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run(ctx, compact.Plan{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var compacted int64
	for _, p := range rep.Partitions {
		compacted += p.Records
	}
	if compacted != int64(n) {
		t.Fatalf("loglake compacted %d records, want %d", compacted, n)
	}

	db := openDuckDB(t)
	from := fmt.Sprintf("read_parquet('%s', hive_partitioning = true, union_by_name = true)",
		filepath.Join(dir, "compacted", "**", "*.parquet"))

	t.Run("types", func(t *testing.T) {
		got := map[string]string{}
		rows := query(t, db, "DESCRIBE SELECT * FROM "+from)
		for _, r := range rows {
			got[r[0].(string)] = r[1].(string)
		}
		want := map[string]string{
			"timestamp": "TIMESTAMP WITH TIME ZONE", "tenant_id": "VARCHAR", "dt": "DATE",
			"device_id": "VARCHAR", "file_path": "VARCHAR", "window_title": "VARCHAR", "user": "VARCHAR",
			"size": "BIGINT", "pid": "BIGINT", "bytes": "BIGINT", "removable": "BOOLEAN",
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("column %s: type %q, want %q (all: %v)", k, got[k], w, got)
			}
		}
		if _, ok := got[compact.UnfitColumn]; ok {
			t.Errorf("column %s present: some generated value did not fit its column", compact.UnfitColumn)
		}
	})

	want := recordsFromEnvelopes(t, envelopes)

	t.Run("counts per partition", func(t *testing.T) {
		got := map[string]int{}
		for _, r := range query(t, db, "SELECT tenant_id, CAST(dt AS VARCHAR), count(*) FROM "+from+" GROUP BY ALL") {
			got[r[0].(string)+"/"+r[1].(string)] = int(r[2].(int64))
		}
		wantCounts := map[string]int{}
		for k, recs := range want {
			wantCounts[k] = len(recs)
		}
		if d := cmp.Diff(wantCounts, got); d != "" {
			t.Errorf("DuckDB counts per tenant/day differ from the generator's (-want +got):\n%s", d)
		}
		// loglake's own reader agrees with both.
		ownCounts := map[string]int{}
		for _, p := range rep.Partitions {
			recs, _, err := compact.ReadAll(ctx, lake, p.Partition)
			if err != nil {
				t.Fatal(err)
			}
			ownCounts[p.Partition.Tenant+"/"+p.Partition.Day.String()] = len(recs)
		}
		if d := cmp.Diff(wantCounts, ownCounts); d != "" {
			t.Errorf("loglake's counts per tenant/day differ from the generator's (-want +got):\n%s", d)
		}
	})

	t.Run("every value", func(t *testing.T) {
		got := map[string][]string{}
		cols, rows := queryCols(t, db, "SELECT * FROM "+from)
		for _, r := range rows {
			m := map[string]any{}
			var tenant string
			var dt time.Time
			for i, c := range cols {
				switch c {
				case "dt":
					dt = r[i].(time.Time)
				case "tenant_id":
					tenant = r[i].(string)
					m[c] = r[i]
				default:
					m[c] = r[i]
				}
			}
			ts, ok := m["timestamp"].(time.Time)
			if !ok {
				t.Fatalf("timestamp is %T, want time.Time", m["timestamp"])
			}
			if day := ts.UTC().Format(time.DateOnly); day != dt.Format(time.DateOnly) {
				t.Errorf("row at %s is in partition dt=%s", ts.UTC().Format(time.RFC3339Nano), dt.Format(time.DateOnly))
			}
			k := tenant + "/" + dt.Format(time.DateOnly)
			got[k] = append(got[k], canon(m))
		}
		for k := range want {
			slices.Sort(want[k])
			slices.Sort(got[k])
			if !slices.Equal(want[k], got[k]) {
				t.Errorf("partition %s: DuckDB's rows differ from the generated records:\n%s", k, firstDiff(want[k], got[k]))
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("DuckDB sees partition %s, which was never written", k)
			}
		}
	})

	t.Run("search", func(t *testing.T) {
		rows := query(t, db, "SELECT count(*) FROM "+from+" WHERE file_path LIKE '%社外秘%' AND tenant_id <> '"+special+"'")
		if got := rows[0][0].(int64); got != int64(g.SecretPaths) {
			t.Errorf("file_path LIKE '%%社外秘%%': DuckDB counts %d, the generator wrote %d", got, g.SecretPaths)
		}
		rows = query(t, db, "SELECT file_path, size, epoch_us(timestamp) FROM "+from+" WHERE tenant_id = '"+special+"' AND removable")
		want := [][]any{{`C:\Users\山田\社外秘\"見積"_v2 🚀.xlsx`, int64(9007199254740993), int64(1795132800000001)}}
		if d := cmp.Diff(want, rows); d != "" {
			t.Errorf("special record (-want +got):\n%s", d)
		}
	})

	// Late data for one partition: a new file, then (MaxFiles 1) a merge
	// of every file into one. A reader that globs the directory, knowing
	// nothing of manifests, must see each record once at every step.
	t.Run("late data and rewrite", func(t *testing.T) {
		p := loglake.Partition{Tenant: special, Day: loglake.NewDay(2026, time.November, 20)}
		where := " WHERE tenant_id = '" + special + "'"
		count := func() int64 { return query(t, db, "SELECT count(*) FROM "+from+where)[0][0].(int64) }
		if got := count(); got != 2 {
			t.Fatalf("before: %d rows, want 2", got)
		}
		late := `{"tenant_id":"` + special + `","device_id":"pc-y","log":[{"timestamp":"2026-11-20T12:00:00Z","log_type":"usb","usb_serial":"SN-001"}]}`
		ingestAll(ctx, t, lake, []byte(late))
		if _, err := c.CompactPartition(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != 3 {
			t.Errorf("after late data: %d rows, want 3", got)
		}
		rows := query(t, db, "SELECT usb_serial FROM "+from+where+" AND usb_serial IS NOT NULL")
		if d := cmp.Diff([][]any{{"SN-001"}}, rows); d != "" {
			t.Errorf("late field (-want +got):\n%s", d)
		}

		merge, err := compact.New(lake, &compact.Options{MaxFiles: 1})
		if err != nil {
			t.Fatal(err)
		}
		ingestAll(ctx, t, lake, []byte(strings.ReplaceAll(late, "SN-001", "SN-002")))
		res, err := merge.CompactPartition(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Rewrite {
			t.Errorf("compaction with MaxFiles 1 did not rewrite: %+v", res)
		}
		if got := count(); got != 4 {
			t.Errorf("after the rewrite: %d rows, want 4", got)
		}
		files, _ := filepath.Glob(filepath.Join(dir, p.Prefix(loglake.AreaCompacted), "*.parquet"))
		if len(files) != 1 {
			t.Errorf("after the rewrite the partition holds %d Parquet files, want 1: %v", len(files), files)
		}
	})
}

// ingestAll ingests NDJSON envelopes and checks that every record landed
// in raw/.
func ingestAll(ctx context.Context, t *testing.T, lake *loglake.Lake, data []byte) {
	t.Helper()
	ing, err := ingest.New(lake, &ingest.Options{CarryFields: []string{"device_id"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ing.Add(ctx, data); err != nil {
		t.Fatal(err)
	}
	if err := ing.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := ing.Stats(); st.DeadLettered != 0 || st.Written != st.Records {
		t.Fatalf("ingest: %+v", st)
	}
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func query(t *testing.T, db *sql.DB, q string) [][]any {
	t.Helper()
	_, rows := queryCols(t, db, q)
	return rows
}

func queryCols(t *testing.T, db *sql.DB, q string) ([]string, [][]any) {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return cols, out
}

// recordsFromEnvelopes decodes the envelopes with encoding/json — knowing
// nothing of loglake — into canonical records by "tenant/dt".
func recordsFromEnvelopes(t *testing.T, envelopes []byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(envelopes))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var e struct {
			TenantID string           `json:"tenant_id"`
			DeviceID string           `json:"device_id"`
			Log      []map[string]any `json:"log"`
		}
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		for _, r := range e.Log {
			r["tenant_id"], r["device_id"] = e.TenantID, e.DeviceID
			ts, err := time.Parse(time.RFC3339Nano, r["timestamp"].(string))
			if err != nil {
				t.Fatal(err)
			}
			r["timestamp"] = ts
			k := e.TenantID + "/" + ts.UTC().Format(time.DateOnly)
			out[k] = append(out[k], canon(r))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// canon renders a record's non-null fields, sorted by name, with each
// value's kind, so that records from JSON and rows from DuckDB compare as
// strings.
func canon(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		switch v := m[k].(type) {
		case string:
			b.WriteString("s:" + v)
		case bool:
			b.WriteString("b:" + strconv.FormatBool(v))
		case int64:
			b.WriteString("i:" + strconv.FormatInt(v, 10))
		case int32:
			b.WriteString("i:" + strconv.FormatInt(int64(v), 10))
		case json.Number:
			if i, err := v.Int64(); err == nil {
				b.WriteString("i:" + strconv.FormatInt(i, 10))
			} else {
				b.WriteString("f:" + v.String())
			}
		case float64:
			b.WriteString("f:" + strconv.FormatFloat(v, 'g', -1, 64))
		case time.Time:
			b.WriteString("t:" + v.UTC().Format("2006-01-02T15:04:05.000000Z"))
		default:
			fmt.Fprintf(&b, "%T:%v", v, v)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// firstDiff describes how two sorted lists differ, briefly.
func firstDiff(want, got []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %d rows, want %d\n", len(got), len(want))
	shown := 0
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok && shown < 3 {
			fmt.Fprintf(&b, "  missing: %s\n", w)
			shown++
		}
	}
	shown = 0
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok && shown < 3 {
			fmt.Fprintf(&b, "  unexpected: %s\n", g)
			shown++
		}
	}
	return b.String()
}
