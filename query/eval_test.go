package query

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
)

func testRecords() []record {
	t0 := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	return []record{
		{"tenant_id": "a", "dt": "2024-05-01", "timestamp": t0, "level": "info", "file_path": `C:\Users\x\社外秘\a.docx`, "n": int64(1)},
		{"tenant_id": "a", "dt": "2024-05-01", "timestamp": t0.Add(10 * time.Minute), "level": "warn", "file_path": `C:\Users\x\b.DOCX`, "n": 2.5},
		{"tenant_id": "a", "dt": "2024-05-02", "timestamp": t0.Add(24 * time.Hour), "level": "info", "n": nil},
		{"tenant_id": "b", "dt": "2024-05-01", "timestamp": t0.Add(time.Hour), "level": "error", "file_path": `D:\社外秘.xlsx`, "n": int64(7)},
		{"tenant_id": "b", "dt": "2024-05-03", "timestamp": "2024-05-03T00:00:00Z", "level": "info", "flag": true},
	}
}

func TestThreeValuedLogic(t *testing.T) {
	T, F, N := triTrue, triFalse, triNull
	vals := []tri{T, F, N}
	and := [3][3]tri{{T, F, N}, {F, F, F}, {N, F, N}}
	or := [3][3]tri{{T, T, T}, {T, F, N}, {T, N, N}}
	for i, a := range vals {
		for j, b := range vals {
			if got := a.and(b); got != and[i][j] {
				t.Errorf("%v AND %v = %v, want %v", a, b, got, and[i][j])
			}
			if got := a.or(b); got != or[i][j] {
				t.Errorf("%v OR %v = %v, want %v", a, b, got, or[i][j])
			}
		}
	}
	if T.not() != F || F.not() != T || N.not() != N {
		t.Error("NOT is wrong")
	}
}

func TestPredicates(t *testing.T) {
	ts := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	r := record{"s": "abc", "i": int64(3), "f": 3.0, "h": 2.5, "b": true, "t": ts, "ts": "2024-05-01T09:30:00Z", "null": nil,
		"path": `C:\Users\社外秘\x.docx`, "big": int64(math.MaxInt64), "u8": uint8(3), "i32": int32(3)}
	f := func(where string, want tri) {
		t.Helper()
		q, err := Parse("SELECT * FROM logs WHERE " + where)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		p, err := compilePred(q.Filter)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if got := p(r.get); got != want {
			t.Errorf("%s = %v, want %v", where, got, want)
		}
	}
	T, F, N := triTrue, triFalse, triNull
	// Numbers across int and float.
	f("i = 3", T)
	f("i = 3.0", T)
	f("f = 3", T)
	f("i < 3.5", T)
	f("h > 2", T)
	f("h < 3", T)
	f("u8 = i32", T)
	f("big = 9223372036854775807", T)
	f("big < 9223372036854775807.0", T) // the float is 2^63, above MaxInt64
	f("i BETWEEN 1 AND 3", T)
	f("i NOT BETWEEN 1 AND 2", T)
	f("i IN (1, 2.9, 3.0)", T)
	// Strings and mixed kinds.
	f("s = 'abc'", T)
	f("s < 'abd'", T)
	f("s = 3", N)
	f("i = '3'", N)
	f("b = TRUE", T)
	f("b > FALSE", T)
	f("b = 1", N)
	// NULL and missing fields.
	f("null = 1", N)
	f("missing = 1", N)
	f("missing IS NULL", T)
	f("null IS NULL", T)
	f("s IS NOT NULL", T)
	f("missing = 1 OR i = 3", T)
	f("missing = 1 AND i = 4", F)
	f("NOT missing = 1", N)
	f("i IN (1, NULL)", N)
	f("i IN (3, NULL)", T)
	f("i NOT IN (1, NULL)", N)
	f("i = NULL", N)
	f("missing BETWEEN 1 AND 2", N)
	// Timestamps.
	f("t = TIMESTAMP '2024-05-01 09:30:00'", T)
	f("t = TIMESTAMP '2024-05-01 18:30:00 +09:00'", T)
	f("t = '2024-05-01T09:30:00Z'", T)
	f("t > '2024-05-01'", T)
	f("t < 'soon'", N)
	f("ts = TIMESTAMP '2024-05-01 09:30:00'", T) // a string field read as a timestamp
	f("t BETWEEN '2024-05-01' AND TIMESTAMP '2024-05-02'", T)
	// LIKE.
	f("path LIKE '%社外秘%'", T)
	f("path NOT LIKE '%社外秘%'", F)
	f("path LIKE '%.DOCX'", F)
	f("path ILIKE '%.DOCX'", T)
	f("path LIKE 'C:\\Users%' ESCAPE '!'", T)
	f("missing LIKE '%'", N)
	f("missing NOT LIKE '%'", N)
	f("i LIKE '3'", N)
	f("s LIKE 'a_c'", T)
	f("s LIKE 'a!_c' ESCAPE '!'", F)
}

func TestRefEval(t *testing.T) {
	ts := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		sql  string
		want *refResult
	}{
		{"SELECT level FROM logs WHERE tenant_id = 'a' AND file_path LIKE '%社外秘%'",
			&refResult{Columns: []string{"level"}, Rows: [][]any{{"info"}}}},
		{"SELECT level, n FROM logs WHERE tenant_id = 'a' ORDER BY n DESC",
			&refResult{Columns: []string{"level", "n"}, Rows: [][]any{{"warn", 2.5}, {"info", int64(1)}, {"info", nil}}}},
		{"SELECT level, n FROM logs WHERE tenant_id = 'a' ORDER BY n",
			&refResult{Columns: []string{"level", "n"}, Rows: [][]any{{"info", int64(1)}, {"warn", 2.5}, {"info", nil}}}},
		{"SELECT level FROM logs ORDER BY timestamp DESC LIMIT 2",
			&refResult{Columns: []string{"level"}, Rows: [][]any{{"info"}, {"info"}}}},
		{"SELECT * FROM logs WHERE flag = TRUE",
			&refResult{Columns: []string{"dt", "flag", "level", "tenant_id", "timestamp"}, Rows: [][]any{{"2024-05-03", true, "info", "b", "2024-05-03T00:00:00Z"}}}},
		{"SELECT count(*), count(n), count(file_path), sum(n), min(level), max(timestamp) FROM logs WHERE tenant_id = 'a'",
			&refResult{Columns: []string{"count(*)", "count(n)", "count(file_path)", "sum(n)", "min(level)", "max(timestamp)"},
				Rows: [][]any{{int64(3), int64(2), int64(2), 3.5, "info", ts.Add(24 * time.Hour)}}}},
		{"SELECT count(*) AS c, sum(n) s FROM logs WHERE tenant_id = 'zzz'",
			&refResult{Columns: []string{"c", "s"}, Rows: [][]any{{int64(0), nil}}}},
		{"SELECT tenant_id, count(*) FROM logs GROUP BY tenant_id ORDER BY 2 DESC, tenant_id",
			&refResult{Columns: []string{"tenant_id", "count(*)"}, Rows: [][]any{{"a", int64(3)}, {"b", int64(2)}}}},
		{"SELECT date_trunc('hour', timestamp) AS h, count(*) FROM logs WHERE dt = '2024-05-01' GROUP BY 1 ORDER BY h",
			&refResult{Columns: []string{"h", "count(*)"}, Rows: [][]any{{ts.Truncate(time.Hour), int64(2)}, {ts.Truncate(time.Hour).Add(time.Hour), int64(1)}}}},
		{"SELECT date_trunc('day', timestamp), count(*) FROM logs GROUP BY date_trunc('day', timestamp) ORDER BY count(*) DESC LIMIT 1",
			&refResult{Columns: []string{"date_trunc('day', timestamp)", "count(*)"}, Rows: [][]any{{time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), int64(3)}}}},
		{"SELECT level, sum(n) FROM logs WHERE tenant_id = 'b' GROUP BY level ORDER BY level",
			&refResult{Columns: []string{"level", "sum(n)"}, Rows: [][]any{{"error", int64(7)}, {"info", nil}}}},
		{"SELECT flag, count(*) FROM logs GROUP BY flag ORDER BY flag",
			&refResult{Columns: []string{"flag", "count(*)"}, Rows: [][]any{{true, int64(1)}, {nil, int64(4)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			q, err := Parse(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			got, err := refEval(q, testRecords())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefEvalErrors(t *testing.T) {
	recs := []record{{"x": int64(math.MaxInt64), "s": "a"}, {"x": int64(1), "s": int64(1)}}
	for _, sql := range []string{"SELECT sum(x) FROM logs", "SELECT sum(s) FROM logs", "SELECT min(s) FROM logs"} {
		q, err := Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := refEval(q, recs); err == nil {
			t.Errorf("%s: no error", sql)
		}
	}
	if _, err := refEval(Query{Filter: &AndExpr{}}, nil); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("invalid query: %v", err)
	}
}

// TestAnalysesAreSound: every record the reference evaluator keeps lies in
// the scope and ranges the analyses derive.
func TestAnalysesAreSound(t *testing.T) {
	for _, sql := range fuzzSeeds {
		checkSound(t, sql)
	}
	checkSound(t, "SELECT * FROM logs WHERE tenant_id IN ('a', 'b') AND dt > '2024-05-01' AND timestamp < TIMESTAMP '2024-05-03'")
}

func checkSound(t *testing.T, sql string) {
	t.Helper()
	q, err := Parse(sql)
	if err != nil {
		return
	}
	var recs []record
	for _, r := range testRecords() {
		recs = append(recs, r)
	}
	p := pred(func(getter) tri { return triTrue })
	if q.Filter != nil {
		if p, err = compilePred(q.Filter); err != nil {
			t.Fatal(err)
		}
	}
	scope, scopeErr := q.Scope(false)
	tr, dr := q.TimeRange(), q.DayRange()
	for _, r := range recs {
		if p(r.get) != triTrue {
			continue
		}
		if scopeErr == nil {
			tenant, _ := r["tenant_id"].(string)
			found := false
			for _, s := range scope.Tenants {
				found = found || s == tenant
			}
			if !found {
				t.Errorf("%s: record of tenant %q matches, scope %v", sql, tenant, scope.Tenants)
			}
		}
		if ts, ok := r["timestamp"].(time.Time); ok {
			if !tr.From.IsZero() && ts.Before(tr.From) || !tr.To.IsZero() && ts.After(tr.To) {
				t.Errorf("%s: timestamp %v outside %+v", sql, ts, tr)
			}
		}
		if s, ok := r["dt"].(string); ok {
			d, _ := loglake.ParseDay(s)
			in := (!dr.First.IsValid() || !d.Before(dr.First)) && (!dr.Last.IsValid() || !d.After(dr.Last))
			if dr.Days != nil {
				found := false
				for _, x := range dr.Days {
					found = found || x == d
				}
				in = in && found
			}
			if !in {
				t.Errorf("%s: dt %v outside %+v", sql, d, dr)
			}
		}
	}
}

func TestPrefilterLiterals(t *testing.T) {
	tests := []struct {
		where string
		want  []string
	}{
		{"tenant_id = 'a' AND file_path LIKE '%社外秘%'", []string{"社外秘"}},
		{"file_path LIKE '%a%b%' AND (title ILIKE '%x.DOC%' AND m LIKE 'q')", []string{"a", "b", "x.doc (any case)", "q"}},
		{"file_path NOT LIKE '%a%'", nil},
		{"file_path LIKE '%a%' OR file_path LIKE '%b%'", nil},
		{"dt LIKE '2024-05%' AND tenant_id LIKE 'a%'", nil},
		{"'abc' LIKE '%b%'", nil},
	}
	for _, tt := range tests {
		q, err := Parse("SELECT * FROM logs WHERE " + tt.where)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range prefilterLiterals(q.Filter) {
			s := n.Text
			if n.IgnoreCase {
				s += " (any case)"
			}
			got = append(got, s)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.where, diff)
		}
	}
}

func TestReferencedColumns(t *testing.T) {
	q, err := Parse(`SELECT date_trunc('hour', timestamp) h, count(*), max(n) FROM logs
		WHERE tenant_id = 'a' AND (p LIKE '%x%' OR NOT "Q" IN (r, 1)) AND s IS NULL AND t BETWEEN u AND 3
		GROUP BY 1 ORDER BY max(n) DESC`)
	if err != nil {
		t.Fatal(err)
	}
	cols, all := q.referencedColumns()
	if diff := cmp.Diff([]string{"Q", "n", "p", "r", "s", "t", "tenant_id", "timestamp", "u"}, cols); diff != "" || all {
		t.Errorf("referencedColumns mismatch (all=%v) (-want +got):\n%s", all, diff)
	}
	if _, all := (Query{}).referencedColumns(); !all {
		t.Error("SELECT * does not read all columns")
	}
}
