package query

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func col(n string) *Column    { return &Column{Name: n} }
func lit(v any) *Literal      { return &Literal{Value: v} }
func eq(c string, v any) Expr { return &CompareExpr{Op: OpEq, L: col(c), R: lit(v)} }

func TestParse(t *testing.T) {
	ts := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		sql  string
		want Query
	}{
		{"star", "SELECT * FROM logs", Query{}},
		{"keywords any case", "select * from LOGS where TENANT_ID = 'a'", Query{Filter: eq("tenant_id", "a")}},
		{"columns", "SELECT timestamp, file_path FROM logs", Select("timestamp", "file_path")},
		{"quoted identifiers", `SELECT "File Path", "a""b", "select" FROM "logs"`, Select("File Path", `a"b`, "select")},
		{"aliases", "SELECT file_path AS p, level l FROM logs", SelectTerms(Col("file_path").As("p"), Col("level").As("l"))},
		{"aggregates", "SELECT count(*), COUNT(x), min(x), max(x), sum(n) FROM logs",
			SelectTerms(CountAll(), Count("x"), Min("x"), Max("x"), Sum("n"))},
		{"group by date_trunc", "SELECT date_trunc('hour', timestamp) AS h, count(*) n FROM logs GROUP BY date_trunc('HOUR', timestamp) ORDER BY h DESC",
			SelectTerms(DateTrunc(UnitHour, "timestamp").As("h"), CountAll().As("n")).GroupBy(DateTrunc(UnitHour, "timestamp")).OrderByTerm(DateTrunc(UnitHour, "timestamp"), Desc)},
		{"group by ordinal", "SELECT level, count(*) FROM logs GROUP BY 1 ORDER BY 2 DESC, 1",
			SelectTerms(Col("level"), CountAll()).GroupBy(Col("level")).OrderByTerm(CountAll(), Desc).OrderBy("level", Asc)},
		{"order limit", "SELECT * FROM logs ORDER BY timestamp ASC LIMIT 100;", Query{}.OrderBy("timestamp", Asc).Limit(100)},
		{"limit all", "SELECT * FROM logs LIMIT ALL", Query{}},
		{"and or precedence", "SELECT * FROM logs WHERE a = 1 OR b = 2 AND c = 3",
			Query{Filter: &OrExpr{Args: []Expr{eq("a", int64(1)), &AndExpr{Args: []Expr{eq("b", int64(2)), eq("c", int64(3))}}}}}},
		{"parens", "SELECT * FROM logs WHERE (a = 1 OR b = 2) AND c = 3",
			Query{Filter: &AndExpr{Args: []Expr{&OrExpr{Args: []Expr{eq("a", int64(1)), eq("b", int64(2))}}, eq("c", int64(3))}}}},
		{"nested and keeps structure", "SELECT * FROM logs WHERE a = 1 AND (b = 2 AND c = 3)",
			Query{Filter: &AndExpr{Args: []Expr{eq("a", int64(1)), &AndExpr{Args: []Expr{eq("b", int64(2)), eq("c", int64(3))}}}}}},
		{"not", "SELECT * FROM logs WHERE NOT a = 1 AND NOT NOT b IS NULL",
			Query{Filter: &AndExpr{Args: []Expr{&NotExpr{X: eq("a", int64(1))}, &NotExpr{X: &NotExpr{X: &IsNullExpr{X: col("b")}}}}}}},
		{"operators", "SELECT * FROM logs WHERE a != 1 AND a <> 2 AND a < 3 AND a <= 4 AND a > 5 AND a >= 6",
			Query{Filter: &AndExpr{Args: []Expr{
				&CompareExpr{OpNe, col("a"), lit(int64(1))}, &CompareExpr{OpNe, col("a"), lit(int64(2))},
				&CompareExpr{OpLt, col("a"), lit(int64(3))}, &CompareExpr{OpLe, col("a"), lit(int64(4))},
				&CompareExpr{OpGt, col("a"), lit(int64(5))}, &CompareExpr{OpGe, col("a"), lit(int64(6))}}}}},
		{"literal on the left", "SELECT * FROM logs WHERE 'a' = tenant_id",
			Query{Filter: &CompareExpr{OpEq, lit("a"), col("tenant_id")}}},
		{"literals", "SELECT * FROM logs WHERE a IN (1, -2, 1.5, -0.25, 1e3, 'x', TRUE, false, NULL, TIMESTAMP '2024-05-01')",
			Query{Filter: &InExpr{X: col("a"), List: []Operand{lit(int64(1)), lit(int64(-2)), lit(1.5), lit(-0.25), lit(1000.0), lit("x"), lit(true), lit(false), lit(nil), lit(ts)}}}},
		{"min int64", "SELECT * FROM logs WHERE a = -9223372036854775808", Query{Filter: eq("a", int64(-9223372036854775808))}},
		{"not in between", "SELECT * FROM logs WHERE a NOT IN ('x') AND b BETWEEN 1 AND 2 AND c NOT BETWEEN 'a' AND 'b'",
			Query{Filter: &AndExpr{Args: []Expr{&InExpr{X: col("a"), List: []Operand{lit("x")}, Not: true},
				&BetweenExpr{X: col("b"), Lo: lit(int64(1)), Hi: lit(int64(2))},
				&BetweenExpr{X: col("c"), Lo: lit("a"), Hi: lit("b"), Not: true}}}}},
		{"like family", `SELECT * FROM logs WHERE p LIKE '%社外秘%' AND p NOT LIKE 'a\%' ESCAPE '\' AND p ILIKE '%DOCX' AND p NOT ILIKE 'x'`,
			Query{Filter: &AndExpr{Args: []Expr{
				&LikeExpr{X: col("p"), Pattern: "%社外秘%"},
				&LikeExpr{X: col("p"), Pattern: `a\%`, Escape: '\\', Not: true},
				&LikeExpr{X: col("p"), Pattern: "%DOCX", IgnoreCase: true},
				&LikeExpr{X: col("p"), Pattern: "x", IgnoreCase: true, Not: true}}}}},
		{"is not null", "SELECT * FROM logs WHERE a IS NOT NULL", Query{Filter: &IsNullExpr{X: col("a"), Not: true}}},
		{"timestamp literal with zone", "SELECT * FROM logs WHERE timestamp >= TIMESTAMP '2024-05-01 09:00:00+09:00'",
			Query{Filter: &CompareExpr{OpGe, col("timestamp"), lit(ts)}}},
		{"timestamp as column", "SELECT timestamp FROM logs WHERE timestamp IS NULL ORDER BY timestamp",
			Select("timestamp").Where(IsNull("timestamp")).OrderBy("timestamp", Asc)},
		{"comments", "SELECT * /* all */ FROM logs -- the table\nWHERE tenant_id = 'a' -- '\n", Query{Filter: eq("tenant_id", "a")}},
		{"string with quotes and comment marks", "SELECT * FROM logs WHERE m = 'it''s -- not /* a comment */'",
			Query{Filter: eq("m", "it's -- not /* a comment */")}},
		{"unicode", "SELECT \"ファイル\" FROM logs WHERE \"ファイル\" LIKE '%社外秘%'",
			Select("ファイル").Where(&LikeExpr{X: col("ファイル"), Pattern: "%社外秘%"})},
		{"count as column", "SELECT count FROM logs", Select("count")},
		{"hostile or", "SELECT * FROM logs WHERE tenant_id = 'a' OR 1=1",
			Query{Filter: &OrExpr{Args: []Expr{eq("tenant_id", "a"), &CompareExpr{OpEq, lit(int64(1)), lit(int64(1))}}}}},
		{"hostile quote", `SELECT * FROM logs WHERE tenant_id = 'a'' OR tenant_id = ''b'`, Query{Filter: eq("tenant_id", "a' OR tenant_id = 'b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.sql)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.sql, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Parse(%q) mismatch (-want +got):\n%s", tt.sql, diff)
			}
			// Round trip.
			again, err := Parse(got.String())
			if err != nil {
				t.Fatalf("Parse(String()) of %q: %v", got.String(), err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Fatalf("round trip via %q (-want +got):\n%s", got.String(), diff)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	deep := "SELECT * FROM logs WHERE " + strings.Repeat("(", MaxDepth+1) + "a = 1" + strings.Repeat(")", MaxDepth+1)
	deepNot := "SELECT * FROM logs WHERE " + strings.Repeat("NOT ", 100000) + "a = 1"
	tests := []struct {
		sql       string
		line, col int
		msg       string // substring of Error()
	}{
		{"SELECT * FROM logs WHERE (a = )", 1, 31, `expected expression, found ")"`},
		{"SELECT * FROM logs WHERE (a = 1", 1, 32, `expected ")", found end of input`},
		{"SELECT *\nFROM logs\nWHERE a ==", 3, 10, `expected expression, found "="`},
		{"SELECT * FROM logs WHERE 社外秘 = 1", 1, 26, `unexpected character '社'`},
		{"SELECT * FROM logz", 1, 15, `unknown table "logz"`},
		{"SELECT FROM logs", 1, 8, `expected column, found reserved word FROM`},
		{"SELECT * FROM logs WHERE a = 'x", 1, 30, "unterminated string literal"},
		{`SELECT "a FROM logs`, 1, 8, "unterminated quoted identifier"},
		{`SELECT "" FROM logs`, 1, 8, "empty quoted identifier"},
		{"SELECT * FROM logs /* x", 1, 20, "unterminated /* comment"},
		{"SELECT * FROM logs WHERE a LIKE 'x\\' ESCAPE '\\'", 1, 45, "ends with the escape character"},
		{"SELECT * FROM logs WHERE a LIKE 'x' ESCAPE 'ab'", 1, 44, "ESCAPE must be a single character"},
		{"SELECT * FROM logs WHERE a LIKE b", 1, 33, "expected pattern string"},
		{"SELECT * FROM logs WHERE a LIKE '" + strings.Repeat("%x", MaxPatternLen) + "'", 1, 33, "exceeds the limit"},
		{"SELECT * FROM logs LIMIT 0", 1, 26, "LIMIT must be a positive integer"},
		{"SELECT * FROM logs LIMIT -1", 1, 26, "expected positive integer or ALL"},
		{"SELECT * FROM logs WHERE a = 99999999999999999999", 1, 30, "out of range"},
		{"SELECT * FROM logs WHERE a = 1e999", 1, 30, "out of range"},
		{"SELECT * FROM logs WHERE a = 12abc", 1, 30, "malformed number"},
		{"SELECT * FROM logs WHERE lower(a) = 'x'", 1, 26, "function \"lower\" is not supported"},
		{"SELECT * FROM logs WHERE a", 1, 27, "expected comparison operator"},
		{"SELECT * FROM logs WHERE a NOT = 1", 1, 32, "expected IN, BETWEEN, LIKE or ILIKE after NOT"},
		{"SELECT * FROM logs WHERE timestamp > TIMESTAMP 'yesterday'", 1, 48, "invalid TIMESTAMP"},
		{"SELECT level, count(*) FROM logs", 1, 8, "level must appear in GROUP BY"},
		{"SELECT * FROM logs GROUP BY level", 1, 1, "SELECT * cannot be combined"},
		{"SELECT x FROM logs ORDER BY count(*)", 1, 29, "aggregate in a query without aggregates"},
		{"SELECT count(*) FROM logs GROUP BY count(*)", 1, 36, "not allowed here"},
		{"SELECT date_trunc('week', timestamp) FROM logs", 1, 19, "unsupported date_trunc unit"},
		{"SELECT foo(x) FROM logs", 1, 8, "unknown function"},
		{"SELECT count(DISTINCT x) FROM logs", 1, 14, "DISTINCT aggregates are not supported"},
		{"SELECT *, x FROM logs", 1, 9, "* must be the only item"},
		{"SELECT * FROM logs ORDER BY 1", 1, 29, "position 1 is not in the select list"},
		{"SELECT * FROM logs WHERE a = 1 garbage", 1, 32, "expected end of query"},
		{"SELECT * FROM logs; SELECT * FROM logs", 1, 21, "expected end of query"},
		{"DELETE FROM logs", 1, 1, "expected SELECT"},
		{"", 1, 1, "expected SELECT, found end of input"},
		{deep, 1, 26 + MaxDepth, "nested deeper than 100 levels"},
		{deepNot, 1, 26 + 4*MaxDepth, "nested deeper than 100 levels"},
		{"SELECT * FROM logs WHERE a = 1 ! b", 1, 32, "unexpected character '!'"},
		{"SELECT * FROM logs WHERE a = 'x' & 1", 1, 34, "unexpected character '&'"},
	}
	for _, tt := range tests {
		name := tt.sql
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tt.sql)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error = %v (%T), want *SyntaxError", err, err)
			}
			if !errors.Is(err, ErrInvalidQuery) {
				t.Errorf("error does not match ErrInvalidQuery")
			}
			if se.Line != tt.line || se.Col != tt.col {
				t.Errorf("position = line %d col %d, want line %d col %d (%v)", se.Line, se.Col, tt.line, tt.col, err)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "query: syntax error at line ") {
				t.Errorf("error %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	_, err := Parse("SELECT * FROM logs WHERE (")
	want := `query: syntax error at line 1, col 27: expected expression, found end of input`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
	_, err = Parse("SELECT * FROM logs WHERE a LIKE '" + strings.Repeat("x", MaxPatternLen+1) + "'")
	if !errors.Is(err, ErrPatternTooLong) {
		t.Fatalf("error = %v, want ErrPatternTooLong", err)
	}
	if _, err := Parse(strings.Repeat(" ", MaxSQLLen+1)); !errors.Is(err, ErrInvalidQuery) {
		t.Fatalf("over-long query: error = %v", err)
	}
}
