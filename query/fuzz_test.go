package query

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var fuzzSeeds = []string{
	"SELECT * FROM logs",
	"SELECT timestamp, file_path FROM logs WHERE tenant_id = 'acme' AND file_path LIKE '%社外秘%' ORDER BY timestamp DESC LIMIT 100",
	"SELECT date_trunc('hour', timestamp) h, count(*) FROM logs WHERE tenant_id IN ('a','b') GROUP BY 1 ORDER BY h",
	"select min(x), max(\"Y\"), sum(n), count(z) from logs where not (a = 1 or b <> 2.5e-3) and c between -1 and 1",
	"SELECT * FROM logs WHERE tenant_id = 'a' OR 1=1",
	"SELECT * FROM logs WHERE tenant_id = 'a' -- ' OR 1=1",
	"SELECT * FROM logs WHERE a NOT ILIKE 'x#%' ESCAPE '#' AND b IS NOT NULL AND t >= TIMESTAMP '2024-01-01 00:00:00.5 UTC'",
	"SELECT * FROM logs WHERE ((((a = 1))))",
	"SELECT \"a\"\"b\" AS \"c d\" FROM logs /* x */ WHERE x NOT IN (1, 'y', NULL, TRUE)",
}

// FuzzParse checks that Parse never panics, that every error is a
// *SyntaxError, and that String round-trips every query Parse accepts.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		q, err := Parse(sql)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is not a *SyntaxError", sql, err)
			}
			if se.Pos < 0 || se.Pos > len(sql) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("bad position in %+v", se)
			}
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("Parse(%q) returned a query Validate rejects: %v", sql, err)
		}
		s := q.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", sql, s, err)
		}
		if diff := cmp.Diff(q, again); diff != "" {
			t.Fatalf("round trip of %q via %q (-want +got):\n%s", sql, s, diff)
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("String not stable: %q then %q", s, s2)
		}
		// The analyses must not panic either.
		_, _ = q.Scope(false)
		_ = q.TimeRange()
		_ = q.DayRange()
		if _, err := refEval(q, testRecords()); err != nil && errors.Is(err, ErrInvalidQuery) {
			t.Fatalf("refEval rejected a parsed query: %v", err)
		}
		checkSound(t, sql)
	})
}
